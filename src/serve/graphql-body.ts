/** A `POST /graphql` body as a client sent it: nothing in it is checked yet. */
export interface GraphQLBody {
  query?: unknown;
  readonly variables?: unknown;
  readonly operationName?: unknown;
  /** A persisted query's hash (see persisted-queries.ts), or Apollo's `extensions.persistedQuery`. */
  readonly id?: unknown;
  readonly extensions?: { readonly persistedQuery?: { readonly sha256Hash?: unknown } } | null;
}

/** The operation a request body names, if it names one. */
export function operationNameOf(body: unknown): string | undefined {
  const name = (body as GraphQLBody | null | undefined)?.operationName;
  return typeof name === 'string' ? name : undefined;
}
