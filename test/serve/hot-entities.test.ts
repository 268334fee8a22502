import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../store/manual-clock.ts';
import { single, startTestServer, type TestServer, row } from './support/test-server.ts';

/** The hot cache TTL of the tests that let it pass (on a manual clock: they never wait). */
const TTL_MS = 300;

/**
 * The in-process hot entity cache: serves repeated entities from memory; a write made elsewhere
 * (straight to the store, as another process would) is served after at most its TTL.
 */
describe('hot entity cache', () => {
  let server: TestServer;
  const now = Date.now();
  const clock = manualClock(now);
  beforeAll(async () => {
    server = await startTestServer({ hotEntityTtlMs: TTL_MS, layered: true, now: clock.now });
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
    // A write made elsewhere is not served while the entries live, and is once the TTL has passed.
    await server.store.write([single('c:flea:', 1, 'title', 'Red bike', Date.now() + 1)]);
    expect((await server.gql(query)).body).toEqual(first.body);
    clock.advance(TTL_MS);
    const third = await server.gql(query);
    expect((third.body.data?.['flea_articles'] as { title: string }[])[0]!.title).toBe('Red bike');
    // Rows that kept the article's expired hot entry (fast path) read it again too.
    expect(third.body.data?.['user']).toEqual({
      recent_view_articles: [{ article: { title: 'Red bike', price: 100 } }, { article: null }],
    });
    const metrics = await server.get('/metrics');
    expect(metrics.text).toMatch(/larder_cache_lookups_total\{level="hot",result="hit"\} [1-9]/);
  });

  it('reads features an entry lacks instead of serving them as null', async () => {
    await server.gql('{ flea_articles(ids: [1]) { title } }');
    const res = await server.gql('{ flea_articles(ids: [1]) { title price } }');
    expect(res.body.data).toEqual({ flea_articles: [{ title: 'Red bike', price: 100 }] });
  });
});

/** Writes article `articleId` titled `title` and a view of it by user `userId`, both at `now`. */
async function writeViewedArticle(
  server: TestServer,
  userId: number,
  articleId: number,
  title: string,
  now: number,
): Promise<void> {
  await server.write([
    single('c:flea:', articleId, 'title', title, now),
    row('u:', userId, 'recent_view_articles', now, { article_id: articleId }),
  ]);
}

/** The joined article of user `userId`'s newest view, as served. */
async function newestViewedArticle(server: TestServer, userId: number): Promise<unknown> {
  const res = await server.gql(`{ user(id: ${userId}) { recent_view_articles { article { title } } } }`);
  return (res.body.data?.['user'] as { recent_view_articles: { article: unknown }[] })
    .recent_view_articles[0]!.article;
}

/**
 * A write made by another process (straight to the store here) reaches rows that kept a joined
 * entity's hot entry once the entry's TTL has passed, as it reaches everything else.
 */
describe('hot entity cache and rows kept in the local cache level', () => {
  let server: TestServer;
  const clock = manualClock(Date.now());
  beforeAll(async () => {
    server = await startTestServer({ hotEntityTtlMs: TTL_MS, layered: true, now: clock.now });
  });
  afterAll(() => server.close());

  it('serves a joined entity written elsewhere after the TTL, though its rows are kept', async () => {
    const now = Date.now();
    await writeViewedArticle(server, 8, 5, 'Chair', now);
    const article = (): Promise<unknown> => newestViewedArticle(server, 8);
    expect(await article()).toEqual({ title: 'Chair' });
    await server.store.write([single('c:flea:', 5, 'title', 'Red chair', now + 1_000)]);
    expect(await article()).toEqual({ title: 'Chair' }); // within the TTL: from memory
    clock.advance(TTL_MS);
    expect(await article()).toEqual({ title: 'Red chair' });
  });
});

/**
 * With writes going through the layered store (the embedded runtime's store), the hot cache drops
 * what a write changed at once, whatever its TTL, and a read that started before the write never
 * puts its (old) result into the hot cache.
 */
describe('hot entity cache behind the layered store', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ hotEntityTtlMs: 60_000, layered: true });
    await server.write([single('c:flea:', 1, 'title', 'Bike'), single('c:flea:', 1, 'price', 100)]);
  });
  afterAll(() => server.close());

  const query = '{ flea_articles(ids: [1]) { title price } }';
  const title = async (): Promise<string> =>
    ((await server.gql(query)).body.data?.['flea_articles'] as { title: string }[])[0]!.title;

  it('serves a write made through this process at once, though the TTL is a minute', async () => {
    expect(await title()).toBe('Bike');
    server.store.reset();
    expect(await title()).toBe('Bike');
    expect(server.store.staticCalls).toHaveLength(0); // from the hot cache
    await server.write([single('c:flea:', 1, 'title', 'Red bike', Date.now() + 1_000)]);
    expect(await title()).toBe('Red bike');
  });

  it('serves a written joined entity at once, also to rows that kept its hot entry', async () => {
    const now = Date.now();
    await writeViewedArticle(server, 7, 3, 'Lamp', now);
    const articleTitle = (): Promise<unknown> => newestViewedArticle(server, 7);
    expect(await articleTitle()).toEqual({ title: 'Lamp' });
    server.store.reset();
    expect(await articleTitle()).toEqual({ title: 'Lamp' });
    expect(server.store.staticCalls).toHaveLength(0); // the row's kept hot entry, no lookup
    await server.write([single('c:flea:', 3, 'title', 'Red lamp', now + 1_000)]);
    expect(await articleTitle()).toEqual({ title: 'Red lamp' });
  });

  it('keeps a read that raced a write out of the hot cache', async () => {
    await server.write([single('c:flea:', 2, 'title', 'Old', Date.now() + 2_000)]);
    const q = '{ flea_articles(ids: [2]) { title } }';
    // The read of article 2 (a hot and local miss: price was never read) has read the store...
    let release!: () => void;
    server.store.holdStaticResults = new Promise<void>((resolve) => (release = resolve));
    const racing = server.gql('{ flea_articles(ids: [2]) { title price } }');
    await new Promise((r) => setTimeout(r, 50));
    expect(server.store.staticCalls.length).toBeGreaterThan(0);
    // ...when a write changes it. The racing read answers the old title, but must not keep it.
    server.store.holdStaticResults = undefined;
    await server.write([single('c:flea:', 2, 'title', 'New', Date.now() + 3_000)]);
    release();
    expect((await racing).body.data?.['flea_articles']).toEqual([{ title: 'Old', price: null }]);
    const after = await server.gql(q);
    expect((after.body.data?.['flea_articles'] as { title: string }[])[0]!.title).toBe('New');
  });
});
