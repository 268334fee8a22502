import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { row, single, startTestServer, type TestServer } from './support/test-server.ts';

/**
 * Joins over HTTP: a row's id field resolves to the referenced entity's features, every joined
 * read of a request is ONE store call per joined entity type (asserted on the store's call log),
 * and a missing referenced entity is null.
 */
describe('joins', () => {
  let server: TestServer;
  const now = Date.now();

  beforeAll(async () => {
    server = await startTestServer();
    const writes = [];
    for (let a = 1; a <= 30; a++) {
      writes.push(single('c:flea:', a, 'title', `Bike ${a}`), single('c:flea:', a, 'price', a * 1000));
      writes.push(single('c:flea:', a, 'seller_id', `s${a % 3}`));
    }
    for (let s = 0; s < 3; s++) writes.push(single('s:', `s${s}`, 'nickname', `seller-${s}`));
    // Users 1..3 viewed articles; article 999 does not exist.
    for (let u = 1; u <= 3; u++) {
      for (let i = 0; i < 10; i++) {
        writes.push(row('u:', u, 'recent_view_articles', now - i * 1000, { article_id: u * 10 + i - 9 }));
      }
    }
    writes.push(row('u:', 1, 'recent_view_articles', now + 500, { article_id: 999 }));
    writes.push(row('u:', 1, 'recent_search_keywords', now, { keyword: 'lego' }));
    // Buyers of article 1, each row naming a seller.
    writes.push(row('c:flea:', 1, 'recent_buyers', now, { buyer_id: 7, seller_id: 's1' }));
    writes.push(row('c:flea:', 1, 'recent_buyers', now - 1, { buyer_id: 8, seller_id: 'nobody' }));
    await server.write(writes);
  });
  afterAll(() => server.close());
  beforeEach(() => server.store.reset());

  it("serves the joined entity's features on each row, null for a missing one", async () => {
    const res = await server.gql(
      '{ user(id: 1) { recent_view_articles(input: {count: 3}) { article_id article { id title price } } } }',
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({
      user: {
        recent_view_articles: [
          { article_id: 999, article: null },
          { article_id: 1, article: { id: '1', title: 'Bike 1', price: 1000 } },
          { article_id: 2, article: { id: '2', title: 'Bike 2', price: 2000 } },
        ],
      },
    });
  });

  it('reads every joined entity of a request in ONE store call per entity type', async () => {
    const res = await server.gql(`{
      users(ids: [1, 2, 3]) {
        recent_view_articles(input: {count: 10}) { article { title price } }
        again: recent_view_articles(input: {count: 5}) { article { title category } }
      }
    }`);
    expect(res.body.errors).toBeUndefined();
    const users = res.body.data?.['users'] as {
      recent_view_articles: { article: { title: string } | null }[];
    }[];
    expect(users.map((u) => u.recent_view_articles.length)).toEqual([10, 10, 10]);
    expect(users[1]!.recent_view_articles[0]!.article).toEqual({ title: 'Bike 11', price: 11000 });
    const articleCalls = server.store.staticCalls.filter((pks) => pks.some((pk) => pk.startsWith('c:flea:')));
    expect(articleCalls).toHaveLength(1);
    // Unique articles across both fields and all three users, each with the union of features.
    const pks = articleCalls[0]!;
    expect(new Set(pks).size).toBe(pks.length);
    expect(pks).toContain('c:flea:11#title');
    expect(pks).toContain('c:flea:11#category');
    // user 1's ten newest rows are 999 and 1..9; users 2 and 3 viewed 11..20 and 21..30.
    expect(pks.filter((pk) => pk.endsWith('#title'))).toHaveLength(30);
    // The joined features are served from that one read: no further static calls at all.
    expect(server.store.staticCalls).toHaveLength(1);
    expect(server.store.rangeCalls).toHaveLength(1);
  });

  it('joins at two levels and two entity types: one call per type', async () => {
    const res = await server.gql(`{
      user(id: 1) {
        recent_view_articles(input: {count: 2}) {
          article_id
          article { title recent_buyers { buyer_id seller { nickname } } }
        }
      }
    }`);
    expect(res.body.errors).toBeUndefined();
    const rows = (res.body.data?.['user'] as { recent_view_articles: unknown[] }).recent_view_articles;
    expect(rows[1]).toEqual({
      article_id: 1,
      article: {
        title: 'Bike 1',
        recent_buyers: [
          { buyer_id: 7, seller: { nickname: 'seller-1' } },
          { buyer_id: 8, seller: null },
        ],
      },
    });
    const byType = (prefix: string) =>
      server.store.staticCalls.filter((pks) => pks.some((pk) => pk.startsWith(prefix)));
    expect(byType('c:flea:')).toHaveLength(1);
    expect(byType('s:')).toHaveLength(1);
    expect(byType('s:')[0]).toEqual(['s:s1#nickname', 's:nobody#nickname']);
  });

  it('checks existence on every static feature when only the id is selected', async () => {
    const res = await server.gql(
      '{ user(id: 1) { recent_view_articles(input: {count: 2}) { article { id } } } }',
    );
    expect(res.body.data).toEqual({
      user: { recent_view_articles: [{ article: null }, { article: { id: '1' } }] },
    });
  });

  it('filters rows by equality or `in` before count', async () => {
    const eq = await server.gql(
      '{ user(id: 2) { recent_view_articles(input: {count: 1, filter: [{field: "article_id", eq: 15}]}) { article_id } } }',
    );
    expect(eq.body.data).toEqual({ user: { recent_view_articles: [{ article_id: 15 }] } });
    // User 2 viewed 11 (newest) .. 20. The matches are the 3rd and 8th newest rows: a count of 2
    // applied before filtering would find none.
    const inList = await server.gql(
      '{ user(id: 2) { recent_view_articles(input: {count: 2, filter: [{field: "article_id", in: ["13", 18, 99]}]}) { article_id } } }',
    );
    expect(inList.body.data).toEqual({
      user: { recent_view_articles: [{ article_id: 13 }, { article_id: 18 }] },
    });
    const bad = await server.gql(
      '{ user(id: 2) { recent_view_articles(input: {filter: [{field: "nope", eq: 1}]}) { article_id } } }',
    );
    expect(bad.body.errors?.[0]?.extensions?.['code']).toBe('LARDER_ERR_BAD_ARGUMENT');
    const both = await server.gql(
      '{ user(id: 2) { recent_view_articles(input: {filter: [{field: "article_id", eq: 1, in: [2]}]}) { article_id } } }',
    );
    expect(both.body.errors?.[0]?.extensions?.['code']).toBe('LARDER_ERR_BAD_ARGUMENT');
  });
});
