import fp from 'fastify-plugin';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import { LarderError } from '../../errors.ts';
import { failHook } from '../error-reply.ts';
import type { GraphQLBody } from '../graphql-body.ts';
import { queryHash, type PersistedQueries } from '../persisted-queries.ts';
import { checkQueryForSchema, type QueryGuardLimits } from '../query-guard.ts';

export interface PersistedQueriesPluginOptions {
  readonly persisted: PersistedQueries;
  readonly limits: QueryGuardLimits;
  /** The schema in force (it follows registry reloads): queries are validated against it. */
  readonly schema: () => GraphQLSchema;
  /** Validation rules beyond GraphQL's own, as the executor applies them. */
  readonly rules: readonly ValidationRule[];
}

/**
 * Persisted queries (see ../persisted-queries.ts): `POST /v1/queries` (admin) registers one in the
 * store, and a `POST /graphql` that names one by hash gets its text before anything else reads
 * the body. A text is registered only once it parses, stays within the query limits and
 * validates against the schema in force. The hook is synchronous unless the request names a
 * persisted query: an async hook costs every request.
 */
export const persistedQueriesPlugin = fp<PersistedQueriesPluginOptions>(
  async (app, options) => {
    const { persisted } = options;
    const check = (query: string): void =>
      checkQueryForSchema(query, options.schema(), options.rules, options.limits);

    app.addHook('preHandler', (request, reply, done) => {
      if (request.method !== 'POST' || request.routeOptions.url !== '/graphql') return done();
      const body = request.body as GraphQLBody | null;
      if (body === null || typeof body !== 'object') return done();
      if (body.id === undefined && body.extensions?.persistedQuery === undefined) return done();
      resolvePersisted(body, persisted, check).then(
        () => done(),
        (err: unknown) => failHook(request, reply, done, err),
      );
    });

    app.post('/v1/queries', { config: { access: 'admin' } }, async (request) => {
      const body = request.body as { query?: unknown } | null;
      if (body === null || typeof body !== 'object' || typeof body.query !== 'string' || body.query === '') {
        throw new LarderError('LARDER_ERR_BAD_REQUEST', 'send {"query": "<GraphQL query text>"}');
      }
      check(body.query);
      return { id: await persisted.register(body.query) };
    });
  },
  { name: 'larder-persisted-queries' },
);

/**
 * Hash-only requests get their text; hash-and-text requests (automatic persisted queries) are
 * checked and remembered by this process.
 */
async function resolvePersisted(
  body: GraphQLBody,
  persisted: PersistedQueries,
  check: (query: string) => void,
): Promise<void> {
  const apq = body.extensions?.persistedQuery?.sha256Hash;
  const hash = typeof apq === 'string' ? apq : typeof body.id === 'string' ? body.id : undefined;
  if (hash === undefined) return;
  const lower = hash.toLowerCase();
  if (typeof body.query === 'string') {
    if (queryHash(body.query) !== lower) {
      throw new LarderError(
        'LARDER_ERR_PERSISTED_QUERY_MISMATCH',
        'the sha256 hash does not match the query text',
        { details: { hash: hash.slice(0, 64) } },
      );
    }
    check(body.query);
    persisted.remember(body.query);
    return;
  }
  const query = await persisted.lookup(lower);
  if (query === undefined) {
    throw new LarderError(
      'LARDER_ERR_PERSISTED_QUERY_NOT_FOUND',
      `no persisted query has the hash ${hash.slice(0, 64)}`,
      { details: { hash: hash.slice(0, 64) } },
    );
  }
  body.query = query;
}
