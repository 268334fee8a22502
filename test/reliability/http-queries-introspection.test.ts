import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { PERSISTED_QUERY_INDEX, queryHash } from '../../src/serve/persisted-queries.ts';
import { serveOptionsFrom } from '../../src/runtime/serve-options.ts';
import { startTestServer, type TestServer } from '../serve/support/test-server.ts';
import { AUTH_ENV, KEYS } from './http-auth-matrix.ts';

/**
 * `POST /v1/queries` once took unparseable text from a read key without a quota (12k registrations
 * grew the data dir by 218 MB), and introspection could not be turned off.
 */
describe('persisted queries: who may register what, and how many', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: AUTH_ENV,
      limits: { maxPersistedQueries: 3, maxPersistedQueryBytes: 200 },
    });
  });
  afterAll(() => server?.close());

  const register = (query: unknown, key: string = KEYS.admin) =>
    server.post('/v1/queries', { query }, { 'x-api-key': key });

  it('needs an admin key', async () => {
    const asReader = await register('{ user(id: 1) { os } }', KEYS.read);
    expect([asReader.status, asReader.body.code, asReader.body.needed]).toEqual([
      403,
      'LARDER_ERR_FORBIDDEN',
      'admin',
    ]);
    expect((await register('{ user(id: 1) { os } }', KEYS.ingest)).status).toBe(403);
  });

  it('registers only text that parses, stays within the limits and fits the schema', async () => {
    for (const [query, code] of [
      ['not graphql {{{', 'LARDER_ERR_QUERY_INVALID'],
      ['{ user(id: 1) { no_such_feature } }', 'LARDER_ERR_QUERY_INVALID'],
      ['{ user(id: 1) { ...A } } fragment A on User { ...A }', 'LARDER_ERR_QUERY_INVALID'],
      [`{ user(id: 1) { ${'...A '.repeat(101)}} } fragment A on User { os }`, 'LARDER_ERR_LIMIT_FIELDS'],
      [42, 'LARDER_ERR_BAD_REQUEST'],
    ] as const) {
      const answer = await register(query);
      expect([answer.status, answer.body.code], String(query).slice(0, 60)).toEqual([400, code]);
    }
    const [index] = await server.store.getStatic([PERSISTED_QUERY_INDEX]);
    expect(index).toBeUndefined();
  });

  it('keeps at most the configured number and bytes of queries, and re-registers known ones', async () => {
    const queries = ['{ user(id: 1) { os } }', '{ user(id: 2) { os } }', '{ user(id: 3) { os } }'];
    for (const query of queries) expect((await register(query)).body).toEqual({ id: queryHash(query) });
    const over = await register('{ user(id: 4) { os } }');
    expect([over.status, over.body.code, over.body.stored]).toEqual([
      429,
      'LARDER_ERR_PERSISTED_QUERY_QUOTA',
      3,
    ]);
    expect((await register(queries[0])).status).toBe(200);
    const [index] = await server.store.getStatic([PERSISTED_QUERY_INDEX]);
    expect(Object.keys(index?.value as object).sort()).toEqual(queries.map(queryHash).sort());
    const byHash = await server.post(
      '/graphql',
      { id: queryHash(queries[1] as string) },
      { 'x-api-key': KEYS.read },
    );
    expect(byHash.body).toEqual({ data: { user: { os: null } } });
  });

  it('refuses a query over the byte quota', async () => {
    const other = await startTestServer({ limits: { maxPersistedQueryBytes: 60 } });
    try {
      expect((await other.post('/v1/queries', { query: '{ user(id: 1) { os } }' })).status).toBe(200);
      const big = await other.post('/v1/queries', {
        query: '{ user(id: 1) { os region_id notification_keywords } }',
      });
      expect([big.status, big.body.code]).toEqual([429, 'LARDER_ERR_PERSISTED_QUERY_QUOTA']);
    } finally {
      await other.close();
    }
  });

  it('remembers automatic persisted queries of a read key in memory only, once they validate', async () => {
    const bad = '{ user(id: 1) { nope } }';
    const refused = await server.post(
      '/graphql',
      { query: bad, extensions: { persistedQuery: { version: 1, sha256Hash: queryHash(bad) } } },
      { 'x-api-key': KEYS.read },
    );
    expect([refused.status, refused.body.errors[0].extensions.code]).toEqual([
      400,
      'LARDER_ERR_QUERY_INVALID',
    ]);
    const unknown = await server.post(
      '/graphql',
      { extensions: { persistedQuery: { version: 1, sha256Hash: queryHash(bad) } } },
      { 'x-api-key': KEYS.read },
    );
    expect(unknown.body.errors[0].extensions.code).toBe('LARDER_ERR_PERSISTED_QUERY_NOT_FOUND');
    const good = '{ user(id: 9) { os } }';
    const apq = { extensions: { persistedQuery: { version: 1, sha256Hash: queryHash(good) } } };
    expect((await server.post('/graphql', { query: good, ...apq }, { 'x-api-key': KEYS.read })).status).toBe(
      200,
    );
    expect((await server.post('/graphql', apq, { 'x-api-key': KEYS.read })).body).toEqual({
      data: { user: { os: null } },
    });
    const [stored] = await server.store.getStatic([`__larder:pq#${queryHash(good)}`]);
    expect(stored).toBeUndefined();
  });
});

describe('introspection switch', () => {
  const schemaQuery = '{ __schema { queryType { name } } }';

  it('answers introspection by default', async () => {
    const server = await startTestServer();
    try {
      expect((await server.gql(schemaQuery)).body).toEqual({
        data: { __schema: { queryType: { name: 'Query' } } },
      });
    } finally {
      await server.close();
    }
  });

  it('refuses __schema and __type with a code when off, and still answers __typename', async () => {
    const server = await startTestServer({ introspection: false });
    try {
      for (const query of [
        schemaQuery,
        '{ __type(name: "User") { name } }',
        '{ user(id: 1) { ...F } } fragment F on User { __type(name: "X") { name } }',
      ]) {
        const answer = await server.gql(query);
        expect([answer.status, answer.body.errors?.[0]?.extensions?.code], query).toEqual([
          400,
          expect.stringMatching(/LARDER_ERR_INTROSPECTION_OFF|LARDER_ERR_QUERY_INVALID/),
        ]);
      }
      const off = await server.gql(schemaQuery);
      expect(off.body.errors?.[0]?.extensions?.code).toBe('LARDER_ERR_INTROSPECTION_OFF');
      expect((await server.gql('{ __typename user(id: 1) { __typename } }')).body).toEqual({
        data: { __typename: 'Query', user: { __typename: 'User' } },
      });
    } finally {
      await server.close();
    }
  });

  it('is serve.introspection in the config file, and LARDER_GRAPHQL_INTROSPECTION', () => {
    expect(serveOptionsFrom(loadConfig(undefined, {})).introspection).toBe(true);
    expect(serveOptionsFrom(loadConfig(undefined, { LARDER_GRAPHQL_INTROSPECTION: '0' })).introspection).toBe(
      false,
    );
  });
});
