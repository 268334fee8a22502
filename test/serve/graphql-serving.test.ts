import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { marketplaceRegistry, seedMarketplace, viewAgeSec } from './marketplace-registry.ts';
import { startServeFixture, type ServeFixture } from './serve-fixture.ts';

let fx: ServeFixture;

beforeAll(async () => {
  fx = await startServeFixture(marketplaceRegistry());
  await seedMarketplace(fx, Date.now());
});
afterAll(async () => {
  await fx?.close();
});
beforeEach(() => fx.store.reset());

/** Runs a query three times: the first on graphql-js, then JIT-compiled. All answers must agree. */
async function gqlJit(
  query: string,
): Promise<ReturnType<ServeFixture['gql']> extends Promise<infer R> ? R : never> {
  const first = await fx.gql(query);
  const second = await fx.gql(query);
  const third = await fx.gql(query);
  expect(second).toEqual(first);
  expect(third).toEqual(first);
  return first;
}

describe('static features', () => {
  it('serves single, multi-field, json, list, set and map values exactly', async () => {
    const { status, body } = await gqlJit(`{
      user(id: 1) {
        id os region_id profile { age score vip } settings lucky_numbers
        notification_keywords addresses { city zip } category_affinity
      }
    }`);
    expect(status).toBe(200);
    expect(body).toEqual({
      data: {
        user: {
          id: '1',
          os: 'ios',
          region_id: 4_000_000_000,
          profile: { age: 31, score: 0.75, vip: true },
          settings: { theme: 'dark', alerts: [1, 2] },
          lucky_numbers: [7, 13, 5_000_000_000],
          notification_keywords: ['desk', 'bike'],
          addresses: [{ city: 'Seoul', zip: '04524' }],
          category_affinity: { books: 0.5, bikes: 0.25 },
        },
      },
    });
  });

  it('gives null for absent features and an empty-featured entity for an unknown id', async () => {
    const { body } = await fx.gql(
      `{ user(id: 2) { id os region_id profile { age } notification_keywords } }`,
    );
    expect(body).toEqual({
      data: { user: { id: '2', os: 'android', region_id: null, profile: null, notification_keywords: null } },
    });
    const unknown = await fx.gql(`{ user(id: 424242) { id os } }`);
    expect(unknown.body).toEqual({ data: { user: { id: '424242', os: null } } });
  });

  it('canonicalises int ids the way ingestion does, and refuses non-integers', async () => {
    const { body } = await fx.gql(`{ user(id: "0001") { id os } }`);
    expect(body).toEqual({ data: { user: { id: '1', os: 'ios' } } });
    const bad = await fx.gql(`{ user(id: "abc") { os } }`);
    expect(bad.body.data).toEqual({ user: null });
    expect(bad.body.errors?.[0]?.extensions?.['code']).toBe('LARDER_ERR_BAD_ARGUMENT');
    expect(bad.body.errors?.[0]?.path).toEqual(['user']);
  });
});

describe('action features', () => {
  const rowsQuery = (input: string): string =>
    `{ user(id: 1) { recent_view_articles${input} { article_id timestamp } } }`;

  it('defaults count to 30, newest first, with epoch-ms timestamps', async () => {
    const before = Date.now();
    const { body } = await gqlJit(rowsQuery(''));
    const rows = (
      body.data?.['user'] as { recent_view_articles: { article_id: number; timestamp: number }[] }
    ).recent_view_articles;
    expect(rows).toHaveLength(30);
    expect(rows.map((r) => r.article_id)).toEqual(Array.from({ length: 30 }, (_, k) => 1039 - k));
    for (const [k, row] of rows.entries()) {
      // Seeded at `now - age`, with `now` a moment before this test started.
      expect(before - row.timestamp).toBeGreaterThanOrEqual(viewAgeSec(39 - k) * 1000);
      if (k > 0) expect(row.timestamp).toBeLessThan(rows[k - 1]!.timestamp);
    }
  });

  it('honours count and lastNSec', async () => {
    const five = await fx.gql(rowsQuery('(input: {count: 5})'));
    expect(
      (five.body.data?.['user'] as { recent_view_articles: unknown[] }).recent_view_articles,
    ).toHaveLength(5);
    // Rows are 30 s, 90 s, ..., 2370 s old: the last 600 s hold exactly the 10 newest.
    const window = await fx.gql(rowsQuery('(input: {lastNSec: 600, count: 100})'));
    const ids = (
      window.body.data?.['user'] as { recent_view_articles: { article_id: number }[] }
    ).recent_view_articles.map((r) => r.article_id);
    expect(ids).toEqual([1039, 1038, 1037, 1036, 1035, 1034, 1033, 1032, 1031, 1030]);
  });

  it('serves multi-field rows with renamed fields', async () => {
    const { body } = await fx.gql(`{ user(id: 1) { recent_search_keywords { keyword result_count } } }`);
    expect(body).toEqual({
      data: {
        user: {
          recent_search_keywords: [
            { keyword: 'bike', result_count: 40 },
            { keyword: 'lamp', result_count: 12 },
          ],
        },
      },
    });
  });

  it('refuses count above maxCount with LARDER_ERR_COUNT_TOO_LARGE, never clamping', async () => {
    const { status, body } = await gqlJit(rowsQuery('(input: {count: 101})'));
    expect(status).toBe(200);
    expect(body.data).toEqual({ user: null });
    expect(body.errors).toHaveLength(1);
    const err = body.errors![0]!;
    expect(err.extensions).toMatchObject({ code: 'LARDER_ERR_COUNT_TOO_LARGE', maxCount: 100 });
    expect(typeof err.extensions?.['hint']).toBe('string');
    expect(err.path).toEqual(['user', 'recent_view_articles']);
    expect(fx.store.rangeCalls).toHaveLength(0);
  });

  it('refuses count < 1 and negative lastNSec with LARDER_ERR_BAD_ARGUMENT', async () => {
    for (const input of ['(input: {count: 0})', '(input: {lastNSec: -1})']) {
      const { body } = await fx.gql(rowsQuery(input));
      expect(body.errors?.[0]?.extensions?.['code']).toBe('LARDER_ERR_BAD_ARGUMENT');
    }
  });

  it('bounds the default count by a maxCount below 30', async () => {
    const { body } = await fx.gql(
      `{ user(id: 1) { recent_search_keywords(input: {count: 50}) { keyword } } }`,
    );
    expect(body.errors).toBeUndefined();
    const over = await fx.gql(`{ user(id: 1) { recent_search_keywords(input: {count: 51}) { keyword } } }`);
    expect(over.body.errors?.[0]?.extensions).toMatchObject({
      code: 'LARDER_ERR_COUNT_TOO_LARGE',
      maxCount: 50,
    });
  });
});

describe('batch root fields', () => {
  it('answers in the order of ids, duplicates and unknown ids included', async () => {
    const { body } = await gqlJit(`{ flea_articles(ids: [3, 1, 999, 1, "2"]) { id title price } }`);
    expect(body).toEqual({
      data: {
        flea_articles: [
          { id: '3', title: 'Chair', price: null },
          { id: '1', title: 'Desk lamp', price: 15000 },
          { id: '999', title: null, price: null },
          { id: '1', title: 'Desk lamp', price: 15000 },
          { id: '2', title: 'Road bike', price: 320000 },
        ],
      },
    });
  });

  it('answers an empty list with an empty list and no store call', async () => {
    const { body } = await fx.gql(`{ flea_articles(ids: []) { title } }`);
    expect(body).toEqual({ data: { flea_articles: [] } });
    expect(fx.store.staticCalls).toHaveLength(0);
  });
});

describe('read batching', () => {
  const wide = `{
    user(id: 1) {
      os region_id profile { age } notification_keywords
      recent_view_articles(input: {count: 3}) { article_id }
      recent_search_keywords { keyword }
    }
    again: user(id: 1) { os recent_view_articles(input: {count: 3}) { article_id } }
    users(ids: [1, 2, 3]) { os region_id recent_view_articles(input: {count: 5}) { article_id } }
    flea_articles(ids: [1, 2, 3, 1]) { title price }
  }`;

  it('makes ONE getStatic and ONE getRanges call per request, with identical keys read once', async () => {
    for (let run = 0; run < 3; run++) {
      fx.store.reset();
      const { body } = await fx.gql(wide);
      expect(body.errors).toBeUndefined();
      expect(fx.store.staticCalls).toHaveLength(1);
      expect(fx.store.rangeCalls).toHaveLength(1);
      const pks = fx.store.staticCalls[0]!;
      expect(new Set(pks).size).toBe(pks.length);
      expect([...pks].sort()).toEqual(
        [
          'u:1#os',
          'u:1#region_id',
          'u:1#profile',
          'u:1#notification_keywords',
          'u:2#os',
          'u:2#region_id',
          'u:3#os',
          'u:3#region_id',
          'c:flea:1#title',
          'c:flea:1#price',
          'c:flea:2#title',
          'c:flea:2#price',
          'c:flea:3#title',
          'c:flea:3#price',
        ].sort(),
      );
      const ranges = fx.store.rangeCalls[0]!.map((q) => `${q.pk}/${q.count}/${q.lastNSec}`);
      expect([...ranges].sort()).toEqual(
        [
          'u:1#recent_view_articles/3/undefined',
          'u:1#recent_search_keywords/30/undefined',
          'u:1#recent_view_articles/5/undefined',
          'u:2#recent_view_articles/5/undefined',
          'u:3#recent_view_articles/5/undefined',
        ].sort(),
      );
      const data = body.data as {
        users: { os: string | null; recent_view_articles: { article_id: number }[] }[];
        again: { os: string };
      };
      expect(data.again.os).toBe('ios');
      expect(data.users.map((u) => u.os)).toEqual(['ios', 'android', null]);
      expect(data.users.map((u) => u.recent_view_articles.length)).toEqual([5, 1, 0]);
    }
  });

  it('separate requests get separate batches', async () => {
    await Promise.all([fx.gql(`{ user(id: 1) { os } }`), fx.gql(`{ user(id: 2) { os } }`)]);
    expect(fx.store.staticCalls.map((c) => c.length)).toEqual([1, 1]);
  });
});

describe('errors', () => {
  it('answers a query that does not match the schema with LARDER_ERR_QUERY_INVALID and 400', async () => {
    const { status, body } = await fx.gql(`{ user(id: 1) { no_such_feature } }`);
    expect(status).toBe(400);
    expect(body.data).toBeNull();
    expect(body.errors?.[0]?.message).toMatch(/no_such_feature/);
    expect(body.errors?.[0]?.extensions?.['code']).toBe('LARDER_ERR_QUERY_INVALID');
  });

  it('answers a syntax error with LARDER_ERR_QUERY_INVALID', async () => {
    const { status, body } = await fx.gql(`{ user(id: 1) { os `);
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.['code']).toBe('LARDER_ERR_QUERY_INVALID');
  });

  it('hides internals of unexpected failures behind LARDER_ERR_INTERNAL', async () => {
    fx.store.failNext = new Error('secret connection string postgres://admin:pw@db');
    const res = await fx.app.inject({
      method: 'POST',
      url: '/graphql',
      payload: { query: '{ user(id: 1) { os } }' },
    });
    expect(res.body).not.toMatch(/secret|postgres|at .*\.ts/);
    const body = res.json() as { data: unknown; errors: { message: string; extensions: { code: string } }[] };
    // The entity's static features are read together, so the failure nulls the entity.
    expect(body.data).toEqual({ user: null });
    expect(body.errors[0]).toMatchObject({
      message: 'Internal error',
      extensions: { code: 'LARDER_ERR_INTERNAL' },
    });
  });

  it('answers a malformed body and unknown routes in the REST error shape', async () => {
    const bad = await fx.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(bad.statusCode).toBe(400);
    expect((bad.json() as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe(
      'LARDER_ERR_BAD_REQUEST',
    );
    const missing = await fx.app.inject({ method: 'GET', url: '/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'LARDER_ERR_NOT_FOUND' });
  });

  it('serves GET /graphql for queries', async () => {
    const res = await fx.app.inject({
      method: 'GET',
      url: `/graphql?query=${encodeURIComponent('{ user(id: 1) { os } }')}`,
    });
    expect(res.json()).toEqual({ data: { user: { os: 'ios' } } });
  });
});
