import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { row, single, startTestServer, type TestServer } from './support/test-server.ts';

/** Every limit, refused over HTTP with its stable code, before anything is read. */
describe('serving limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      limits: {
        maxDepth: 5,
        maxIdsPerQuery: 5,
        maxRowsPerRequest: 200,
        maxQueryBytes: 2000,
        maxBodyBytes: 8000,
      },
    });
    const now = Date.now();
    await server.write([
      single('u:', 1, 'os', 'ios'),
      ...Array.from({ length: 60 }, (_, i) =>
        row('u:', 1, 'recent_view_articles', now - i * 1000, { article_id: i }),
      ),
    ]);
  });
  afterAll(() => server.close());

  it('serves a query within every limit', async () => {
    const res = await server.gql(
      '{ user(id: 1) { os recent_view_articles(input: {count: 50}) { article_id } } }',
    );
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(
      (res.body.data?.['user'] as { recent_view_articles: unknown[] }).recent_view_articles,
    ).toHaveLength(50);
  });

  it('refuses a query nested deeper than maxDepth (fragments included)', async () => {
    server.store.reset();
    const res = await server.gql(`
      query Deep { user(id: 1) { ...F } }
      fragment F on User { recent_view_articles { article { recent_buyers { seller { nickname } } } } }`);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({
      code: 'LARDER_ERR_LIMIT_DEPTH',
      limit: 5,
      actual: 6,
    });
    expect(res.status).toBe(400);
    expect(server.store.staticCalls.length + server.store.rangeCalls.length).toBe(0);
  });

  it('refuses more ids than maxIdsPerQuery, literal or in variables', async () => {
    const literal = await server.gql('{ flea_articles(ids: [1,2,3,4,5,6]) { id } }');
    expect(literal.body.errors?.[0]?.extensions).toMatchObject({
      code: 'LARDER_ERR_LIMIT_IDS',
      limit: 5,
      actual: 6,
    });
    expect(literal.status).toBe(400);
    const vars = await server.gql('query Q($ids: [ID!]!) { flea_articles(ids: $ids) { id } }', {
      ids: ['1', '2', '3', '4', '5', '6', '7'],
    });
    expect(vars.body.errors?.[0]?.extensions).toMatchObject({ code: 'LARDER_ERR_LIMIT_IDS', actual: 7 });
    const ok = await server.gql('query Q($ids: [ID!]!) { flea_articles(ids: $ids) { id } }', {
      ids: ['1', '2'],
    });
    expect(ok.body.errors).toBeUndefined();
  });

  it('refuses requests that could return more than maxRowsPerRequest rows', async () => {
    server.store.reset();
    // 5 users x 50 rows = 250 > 200, with the count in a variable.
    const res = await server.gql(
      'query Q($n: Int) { users(ids: [1,2,3,4,5]) { recent_view_articles(input: {count: $n}) { article_id } } }',
      { n: 50 },
    );
    expect(res.body.errors?.[0]?.extensions).toMatchObject({
      code: 'LARDER_ERR_LIMIT_ROWS',
      limit: 200,
      actual: 250,
    });
    expect(res.status).toBe(400);
    expect(server.store.rangeCalls.length).toBe(0);
    // Joined action features multiply by the rows they hang under: 1 x 20 rows x 20 = 400.
    const nested = await server.gql(
      '{ user(id: 1) { recent_view_articles(input: {count: 20}) { article { recent_buyers(input: {count: 20}) { buyer_id } } } } }',
    );
    expect(nested.body.errors?.[0]?.extensions?.['code']).toBe('LARDER_ERR_LIMIT_ROWS');
    // Defaults count too: 5 ids x 30 (default count) x 2 features = 300.
    const defaults = await server.gql(
      '{ users(ids: [1,2,3,4,5]) { recent_view_articles { article_id } recent_search_keywords { keyword } } }',
    );
    expect(defaults.body.errors?.[0]?.extensions).toMatchObject({
      code: 'LARDER_ERR_LIMIT_ROWS',
      actual: 300,
    });
  });

  it('refuses a query text longer than maxQueryBytes', async () => {
    const padding = ' '.repeat(2100);
    const res = await server.gql(`{ user(id: 1) { os }${padding}}`);
    expect(res.status).toBe(413);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({
      code: 'LARDER_ERR_LIMIT_QUERY_SIZE',
      limit: 2000,
    });
  });

  it('refuses a body larger than maxBodyBytes', async () => {
    const res = await server.post('/graphql', {
      query: '{ user(id: 1) { os } }',
      variables: { pad: 'x'.repeat(9000) },
    });
    expect(res.status).toBe(413);
    expect(JSON.stringify(res.body)).toContain('LARDER_ERR_REQUEST_TOO_LARGE');
  });
});
