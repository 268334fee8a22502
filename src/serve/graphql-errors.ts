import type { ExecutionResult, GraphQLError as GraphQLErrorType, GraphQLFormattedError } from 'graphql';
import { GraphQLError } from './graphql-runtime.ts';
import type { FastifyBaseLogger } from 'fastify';
import { ERROR_CATALOG, isLarderError, type ErrorCode } from '../errors.ts';
import { toPublicError } from './error-response.ts';

/**
 * Mercurius error formatter. Every error in a GraphQL response carries `extensions: {code, hint}`:
 *
 * - a LarderError thrown by a resolver keeps its code, message and details;
 * - parse, validation and variable errors become `LARDER_ERR_QUERY_INVALID`;
 * - framework errors with a 4xx status keep their message under a Larder code;
 * - anything else becomes `LARDER_ERR_INTERNAL` with a generic message, and is logged.
 *
 * The status is 200 whenever there is data (GraphQL semantics), else the first error's status.
 */
export function formatGraphQLErrors(
  execution: ExecutionResult & { readonly errors: readonly GraphQLErrorType[] },
  context: {
    readonly reply?: { readonly log: FastifyBaseLogger };
    readonly app?: { readonly log: FastifyBaseLogger };
  },
): {
  statusCode: number;
  response: { data: ExecutionResult['data'] | null; errors: GraphQLFormattedError[] };
} {
  const log = context.reply?.log ?? context.app?.log;
  const errors: GraphQLFormattedError[] = [];
  let firstStatus = 0;
  for (const error of execution.errors) {
    // Mercurius wraps request-level failures (validation, syntax) in one error holding `.errors`.
    const inner = (error.originalError as { errors?: unknown } | undefined)?.errors;
    const list: readonly unknown[] = Array.isArray(inner) ? inner : [error];
    for (const item of list) {
      const { formatted, status, internal } = formatOne(item, error);
      if (internal) log?.error({ err: unwrap(item) }, 'graphql request failed');
      if (firstStatus === 0) firstStatus = status;
      errors.push(formatted);
    }
  }
  const hasData = execution.data !== undefined && execution.data !== null;
  return {
    statusCode: hasData ? 200 : firstStatus || 500,
    response: { data: execution.data ?? null, errors },
  };
}

function formatOne(
  item: unknown,
  outer: GraphQLErrorType,
): { formatted: GraphQLFormattedError; status: number; internal: boolean } {
  const gql = item instanceof GraphQLError ? item : undefined;
  const original = gql === undefined ? item : gql.originalError;
  const where = gql ?? outer;
  const position: { locations?: GraphQLFormattedError['locations']; path?: GraphQLFormattedError['path'] } =
    {};
  if (where.locations !== undefined) position.locations = where.locations;
  if (where.path !== undefined) position.path = where.path;

  if (isLarderError(original)) {
    const { code, hint, details } = original;
    return {
      formatted: { message: original.message, ...position, extensions: { ...details, code, hint } },
      status: original.status,
      internal: original.status >= 500,
    };
  }
  // graphql's own errors (syntax, validation, coercion, a scalar refusing a value) carry messages
  // written for clients. Before execution they are the query's fault; during it, a data mismatch.
  if (gql !== undefined && (original === undefined || original instanceof GraphQLError)) {
    const code: ErrorCode = gql.path === undefined ? 'LARDER_ERR_QUERY_INVALID' : 'LARDER_ERR_INTERNAL';
    if (code === 'LARDER_ERR_INTERNAL') {
      return { formatted: extended(gql.message, position, code), status: 500, internal: true };
    }
    return { formatted: extended(gql.message, position, code), status: 400, internal: false };
  }
  const pub = toPublicError(withWrapperStatus(original, outer));
  return {
    formatted: {
      message: pub.body.message,
      ...position,
      extensions: { code: pub.body.code, hint: pub.body.hint },
    },
    status: pub.status,
    internal: pub.internal,
  };
}

function extended(
  message: string,
  position: Pick<GraphQLFormattedError, 'locations' | 'path'>,
  code: ErrorCode,
): GraphQLFormattedError {
  return { message, ...position, extensions: { code, hint: ERROR_CATALOG[code].hint } };
}

function unwrap(item: unknown): unknown {
  return item instanceof GraphQLError && item.originalError !== undefined ? item.originalError : item;
}

/**
 * Mercurius wraps some request-level refusals as a plain Error inside an error that carries the
 * status (a mutation sent with GET: "Operation cannot be performed via a GET request" inside a
 * 405). Such an item is the client's fault, with the wrapper's status, not an internal error.
 */
function withWrapperStatus(item: unknown, outer: GraphQLErrorType): unknown {
  const status = (outer.originalError as { statusCode?: unknown } | undefined)?.statusCode;
  const own = (item as { statusCode?: unknown } | null)?.statusCode;
  if (!(item instanceof Error) || own !== undefined || typeof status !== 'number') return item;
  if (status < 400 || status >= 500) return item;
  return Object.assign(new Error(item.message), { statusCode: status });
}
