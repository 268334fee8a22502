import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { row, single, startTestServer, type TestServer } from './support/test-server.ts';

describe('REST face, persisted queries, metrics, request ids', () => {
  let server: TestServer;
  const now = Date.now();
  beforeAll(async () => {
    server = await startTestServer({ limits: { maxIdsPerQuery: 3, maxRowsPerRequest: 100 } });
    await server.write([
      single('u:', 1, 'os', 'ios'),
      single('u:', 1, 'region_id', 42),
      {
        kind: 'static',
        pk: 'u:1#notification_keywords',
        container: 'set',
        mutation: { op: 'add', value: 'bike' },
        ts: now,
        ttlMs: undefined,
        maxCount: 10,
      },
      row('u:', 1, 'recent_view_articles', now - 2000, { article_id: 5, source: 'feed' }),
      row('u:', 1, 'recent_view_articles', now - 1000, { article_id: 6 }),
      row('u:', 1, 'recent_view_articles', now - 10_000_000, { article_id: 7 }),
    ]);
  });
  afterAll(() => server.close());
  beforeEach(() => server.store.reset());

  it('POST /v1/features answers the documented shape, in the order of ids', async () => {
    const res = await server.post('/v1/features', {
      entity: 'user',
      ids: [1, '2'],
      features: [
        { name: 'os' },
        { name: 'notification_keywords' },
        { name: 'recent_view_articles', count: 5, lastNSec: 3600 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      entity: 'user',
      results: [
        {
          id: '1',
          features: {
            os: 'ios',
            notification_keywords: ['bike'],
            recent_view_articles: [
              { article_id: 6, source: null, timestamp: now - 1000 },
              { article_id: 5, source: 'feed', timestamp: now - 2000 },
            ],
          },
        },
        { id: '2', features: { os: null, notification_keywords: null, recent_view_articles: [] } },
      ],
    });
    // The same batched read path: one static call, one range call.
    expect(server.store.staticCalls).toHaveLength(1);
    expect(server.store.rangeCalls).toHaveLength(1);
  });

  it('applies the same limits and codes as GraphQL', async () => {
    const ids = await server.post('/v1/features', {
      entity: 'user',
      ids: [1, 2, 3, 4],
      features: [{ name: 'os' }],
    });
    expect(ids.status).toBe(400);
    expect(ids.body).toMatchObject({ code: 'LARDER_ERR_LIMIT_IDS', limit: 3 });
    const rows = await server.post('/v1/features', {
      entity: 'user',
      ids: [1, 2, 3],
      features: [{ name: 'recent_view_articles', count: 40 }],
    });
    expect(rows.body).toMatchObject({ code: 'LARDER_ERR_LIMIT_ROWS', actual: 120 });
    const count = await server.post('/v1/features', {
      entity: 'user',
      ids: [1],
      features: [{ name: 'recent_search_keywords', count: 51 }],
    });
    expect(count.body.code).toBe('LARDER_ERR_COUNT_TOO_LARGE');
    const entity = await server.post('/v1/features', {
      entity: 'nobody',
      ids: [1],
      features: [{ name: 'os' }],
    });
    expect([entity.status, entity.body.code]).toEqual([404, 'LARDER_ERR_UNKNOWN_ENTITY']);
    const feature = await server.post('/v1/features', {
      entity: 'user',
      ids: [1],
      features: [{ name: 'nope' }],
    });
    expect([feature.status, feature.body.code]).toEqual([404, 'LARDER_ERR_UNKNOWN_FEATURE']);
    const shape = await server.post('/v1/features', { entity: 'user', ids: 1, features: [] });
    expect([shape.status, shape.body.code]).toEqual([400, 'LARDER_ERR_BAD_REQUEST']);
    const notAction = await server.post('/v1/features', {
      entity: 'user',
      ids: [1],
      features: [{ name: 'os', count: 3 }],
    });
    expect(notAction.body.code).toBe('LARDER_ERR_BAD_ARGUMENT');
  });

  it('registers a query once and serves it by hash, by id or APQ extension', async () => {
    const query = 'query Profile($id: ID!) { user(id: $id) { os region_id } }';
    const reg = await server.post('/v1/queries', { query });
    const hash = createHash('sha256').update(query).digest('hex');
    expect(reg.body).toEqual({ id: hash });
    const byId = await server.post('/graphql', { id: hash, variables: { id: '1' } });
    expect(byId.body).toEqual({ data: { user: { os: 'ios', region_id: 42 } } });
    const apq = await server.post('/graphql', {
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
      variables: { id: '1' },
    });
    expect(apq.body).toEqual({ data: { user: { os: 'ios', region_id: 42 } } });
  });

  it('refuses unknown hashes and mismatched texts with their codes; learns APQ texts', async () => {
    const unknown = await server.post('/graphql', {
      extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0].extensions.code).toBe('LARDER_ERR_PERSISTED_QUERY_NOT_FOUND');
    const query = '{ user(id: 1) { os } }';
    const mismatch = await server.post('/graphql', {
      query,
      extensions: { persistedQuery: { version: 1, sha256Hash: 'b'.repeat(64) } },
    });
    expect(mismatch.body.errors[0].extensions.code).toBe('LARDER_ERR_PERSISTED_QUERY_MISMATCH');
    const hash = createHash('sha256').update(query).digest('hex');
    const first = await server.post('/graphql', {
      query,
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
    });
    expect(first.body).toEqual({ data: { user: { os: 'ios' } } });
    const second = await server.post('/graphql', {
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
    });
    expect(second.body).toEqual({ data: { user: { os: 'ios' } } });
  });

  it('keeps persisted queries in the store, so another server on the same store knows them', async () => {
    const query = '{ user(id: 1) { region_id } }';
    const { body } = await server.post('/v1/queries', { query });
    const [stored] = await server.store.getStatic([`__larder:pq#${body.id as string}`]);
    expect(stored?.value).toBe(query);
  });

  it('exposes latency per operation, rows and features served, and the registry version', async () => {
    await server.gql(
      'query Profile { user(id: 1) { os recent_view_articles(input: {count: 2}) { article_id } } }',
    );
    const text = (await server.get('/metrics')).text;
    expect(text).toMatch(/larder_request_duration_seconds_count\{operation="Profile",status="200"\} [1-9]/);
    expect(text).toMatch(
      /larder_request_duration_seconds_count\{operation="rest_features",status="200"\} [1-9]/,
    );
    expect(text).toMatch(/larder_rows_served_total [1-9]/);
    expect(text).toMatch(/larder_features_served_total [1-9]/);
    expect(text).toContain(`larder_registry_info{version="${server.registry.current.version}"} 1`);
  });

  it('echoes the caller request id, or makes one', async () => {
    const given = await server.post(
      '/v1/features',
      { entity: 'user', ids: [1], features: [{ name: 'os' }] },
      { 'x-request-id': 'abc-123' },
    );
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const made = await server.gql('{ user(id: 1) { os } }');
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
