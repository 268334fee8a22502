import fp from 'fastify-plugin';
import { LarderError } from '../../errors.ts';
import { failHook } from '../error-reply.ts';
import type { GraphQLBody } from '../graphql-body.ts';
import { checkQuerySize, type ServeLimits } from '../limits.ts';
import { queryHash, type PersistedQueries } from '../persisted-queries.ts';

export interface PersistedQueriesPluginOptions {
  readonly persisted: PersistedQueries;
  readonly limits: Pick<ServeLimits, 'maxQueryBytes'>;
}

/**
 * Persisted queries (see ../persisted-queries.ts): `POST /v1/queries` registers one, and a
 * `POST /graphql` that names one by hash gets its text before anything else reads the body.
 * The hook is synchronous unless the request names a persisted query: an async hook costs every
 * request.
 */
export const persistedQueriesPlugin = fp<PersistedQueriesPluginOptions>(
  async (app, { persisted, limits }) => {
    app.addHook('preHandler', (request, reply, done) => {
      if (request.method !== 'POST' || request.routeOptions.url !== '/graphql') return done();
      const body = request.body as GraphQLBody | null;
      if (body === null || typeof body !== 'object') return done();
      if (body.id === undefined && body.extensions?.persistedQuery === undefined) return done();
      resolvePersisted(body, persisted).then(
        () => done(),
        (err: unknown) => failHook(request, reply, done, err),
      );
    });

    app.post('/v1/queries', async (request) => {
      const body = request.body as { query?: unknown } | null;
      if (body === null || typeof body !== 'object' || typeof body.query !== 'string' || body.query === '') {
        throw new LarderError('LARDER_ERR_BAD_REQUEST', 'send {"query": "<GraphQL query text>"}');
      }
      checkQuerySize(body.query, limits);
      return { id: await persisted.register(body.query) };
    });
  },
  { name: 'larder-persisted-queries' },
);

/** Hash-only requests get their text; hash-and-text requests are checked and registered. */
async function resolvePersisted(body: GraphQLBody, persisted: PersistedQueries): Promise<void> {
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
    await persisted.register(body.query);
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
