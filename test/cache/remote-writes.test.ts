import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CacheMetrics } from '../../src/cache/cache-metrics.ts';
import { createLayeredStore, type LayeredStore, type WrittenKey } from '../../src/cache/layered-store.ts';
import { LocalCacheLevel } from '../../src/cache/local-level.ts';
import { RedisCacheLevel } from '../../src/cache/redis-level.ts';
import type { OnlineStore } from '../../src/store/online-store.ts';
import { waitUntil } from '../support/wait-until.ts';
import { cacheRegistry, namespace, single, tempLmdbStore, userId } from './cache-fixtures.ts';

const REDIS_URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const admin = new Redis(REDIS_URL);
afterAll(() => admin.quit());

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/**
 * Two processes' layered stores over one shared store and one Redis (as an ingest fleet and a serve
 * fleet share DynamoDB and Redis): what one writes, the other drops from its memory at once — its
 * local level, and whatever listens to its writes (the hot caches) — told through Redis pub/sub.
 */
async function twoProcesses(): Promise<{ writer: LayeredStore; reader: LayeredStore; ns: string }> {
  const { store: raw, cleanup } = await tempLmdbStore();
  await raw.open();
  // One store both processes use; each closing its layered store must not close it.
  const shared: OnlineStore = {
    name: raw.name,
    open: async () => {},
    close: async () => {},
    write: (writes) => raw.write(writes),
    getStatic: (pks) => raw.getStatic(pks),
    getRanges: (queries) => raw.getRanges(queries),
    purgeExpired: (now) => raw.purgeExpired(now),
    ping: () => raw.ping(),
  };
  const ns = namespace();
  const registry = await cacheRegistry();
  const open = async (): Promise<LayeredStore> => {
    const metrics = new CacheMetrics();
    const layered = createLayeredStore({
      store: shared,
      registry,
      local: new LocalCacheLevel({ maxBytes: 1 << 20, admission: 'always' }),
      redis: new RedisCacheLevel({ url: REDIS_URL, namespace: ns, metrics }),
      metrics,
    });
    await layered.open();
    return layered;
  };
  const writer = await open();
  const reader = await open();
  cleanups.push(async () => {
    await writer.close();
    await reader.close();
    await raw.close();
    await cleanup();
    const keys = await admin.keys(`${ns}*`);
    if (keys.length > 0) await admin.del(...keys);
  });
  return { writer, reader, ns };
}

describe('writes told to the other processes through Redis', () => {
  it("drops another process's write from the local level and tells the listeners, not the writer's own", async () => {
    const { writer, reader } = await twoProcesses();
    const heard: (readonly WrittenKey[] | 'all')[] = [];
    const ownHeard: (readonly WrittenKey[] | 'all')[] = [];
    reader.onWrite((keys) => heard.push(keys));
    writer.onWrite((keys) => ownHeard.push(keys));
    // Once its subscription is live, the reader drops everything it held before.
    await waitUntil(() => heard.includes('all'), 10_000, "the reader's subscription");
    await waitUntil(() => ownHeard.includes('all'), 10_000, "the writer's subscription");
    const keysHeard = (list: typeof heard) => list.filter((h) => h !== 'all');
    const pk = `u:${userId()}#region`;
    await writer.write([single(pk, 11, 1)]);
    await waitUntil(() => keysHeard(heard).length === 1, 10_000, 'the first write to reach the reader');

    // The reader caches the value in its local level...
    expect((await reader.getStatic([pk]))[0]?.value).toBe(11);
    await reader.idle();
    expect((await reader.getStatic([pk]))[0]?.value).toBe(11);
    // ...then the writer changes it: the reader hears of it and reads the new value.
    await writer.write([single(pk, 12, 2)]);
    await waitUntil(() => keysHeard(heard).length === 2, 10_000, 'the second write to reach the reader');
    expect(keysHeard(heard)[1]).toEqual([['static', pk]]);
    expect((await reader.getStatic([pk]))[0]?.value).toBe(12);
    // The writer heard its own writes once each, from itself, not again through Redis.
    expect(keysHeard(ownHeard)).toEqual([[['static', pk]], [['static', pk]]]);
  });

  it('tells the listeners to drop everything when the subscription was lost and came back', async () => {
    const { reader, ns } = await twoProcesses();
    const heard: (readonly WrittenKey[] | 'all')[] = [];
    reader.onWrite((keys) => heard.push(keys));
    await waitUntil(() => heard.includes('all'), 10_000, 'the subscription');
    heard.length = 0;
    const subscriberId = async (): Promise<string | undefined> =>
      ((await admin.client('LIST')) as string)
        .split('\n')
        .find((line) => line.includes(` name=${ns}written `))
        ?.match(/^id=(\d+) /)?.[1];
    await waitUntil(async () => (await subscriberId()) !== undefined, 10_000, 'the subscriber to connect');
    await admin.client('KILL', 'ID', (await subscriberId())!);
    await waitUntil(() => heard.includes('all'), 10_000, 'the reconnected subscriber to say all');
  });
});
