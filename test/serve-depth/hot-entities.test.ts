import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { single, startDepthServer, type DepthServer } from './support/depth-server.ts';
import { row } from './support/depth-server.ts';

/** The in-process hot entity cache (opt-in): serves repeated entities from memory, for at most its TTL. */
describe('hot entity cache', () => {
  let server: DepthServer;
  const now = Date.now();
  beforeAll(async () => {
    server = await startDepthServer({ hotEntityTtlMs: 300 });
    await server.write([
      single('c:flea:', 1, 'title', 'Bike'),
      single('c:flea:', 1, 'price', 100),
      row('u:', 1, 'recent_view_articles', now, { article_id: 1 }),
      row('u:', 1, 'recent_view_articles', now - 1, { article_id: 404 }),
    ]);
  });
  afterAll(() => server.close());

  it('reads a hot entity once, then serves it from memory until the TTL passes', async () => {
    const query =
      '{ user(id: 1) { recent_view_articles { article { title price } } } flea_articles(ids: [1]) { title } }';
    const first = await server.gql(query);
    expect(first.body.data).toEqual({
      user: { recent_view_articles: [{ article: { title: 'Bike', price: 100 } }, { article: null }] },
      flea_articles: [{ title: 'Bike' }],
    });
    server.store.reset();
    const second = await server.gql(query);
    expect(second.body).toEqual(first.body);
    // Both the present and the missing article came from memory.
    expect(server.store.staticCalls.filter((pks) => pks.some((pk) => pk.startsWith('c:flea:')))).toHaveLength(
      0,
    );
    // A write is visible once the TTL has passed.
    await server.write([single('c:flea:', 1, 'title', 'Red bike', Date.now() + 1)]);
    await new Promise((r) => setTimeout(r, 350));
    const third = await server.gql(query);
    expect((third.body.data?.['flea_articles'] as { title: string }[])[0]!.title).toBe('Red bike');
    const metrics = await server.get('/metrics');
    expect(metrics.text).toMatch(/larder_cache_lookups_total\{level="hot",result="hit"\} [1-9]/);
  });

  it('reads features an entry lacks instead of serving them as null', async () => {
    await server.gql('{ flea_articles(ids: [1]) { title } }');
    const res = await server.gql('{ flea_articles(ids: [1]) { title price } }');
    expect(res.body.data).toEqual({ flea_articles: [{ title: 'Red bike', price: 100 }] });
  });
});
