import { afterEach, describe, expect, it } from 'vitest';
import { CacheMetrics } from '../../src/cache/cache-metrics.ts';
import { shouldRefreshEarly } from '../../src/cache/cache-policy.ts';
import { createLayeredStore, type LayeredStore } from '../../src/cache/layered-store.ts';
import { LocalCacheLevel } from '../../src/cache/local-level.ts';
import { RedisCacheLevel } from '../../src/cache/redis-level.ts';
import type { OnlineStore } from '../../src/store/online-store.ts';
import {
  addKeyword,
  cacheRegistry,
  click,
  namespace,
  single,
  tempLmdbStore,
  userId,
} from './cache-fixtures.ts';

const REDIS_URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Rig {
  layered: LayeredStore;
  raw: OnlineStore;
  local: LocalCacheLevel;
  redis: RedisCacheLevel;
  metrics: CacheMetrics;
  clock: { t: number };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function rig(options: { admission?: 'always' | 'second-read'; maxBytes?: number } = {}): Promise<Rig> {
  const clock = { t: 1_700_000_000_000 };
  const now = () => clock.t;
  const { store: raw, cleanup } = await tempLmdbStore(now);
  const metrics = new CacheMetrics();
  const local = new LocalCacheLevel({
    maxBytes: options.maxBytes ?? 1 << 20,
    admission: options.admission ?? 'always',
    now,
  });
  const redis = new RedisCacheLevel({ url: REDIS_URL, namespace: namespace(), metrics, now });
  const layered = createLayeredStore({
    store: raw,
    registry: await cacheRegistry(),
    local,
    redis,
    metrics,
    now,
  });
  await layered.open();
  cleanups.push(async () => {
    await layered.close();
    await cleanup();
  });
  return { layered, raw, local, redis, metrics, clock };
}

describe('layered store: read path', () => {
  it('merges hits from each level and the store, in request order', async () => {
    const { layered, raw, metrics } = await rig();
    const u = userId();
    const [a, b, c, d] = ['region', 'os', 'plain', 'keywords'].map((g) => `u:${u}#${g}`) as [
      string,
      string,
      string,
      string,
    ];
    await raw.write([single(a, 11, 1), single(b, 'ios', 1), single(c, 'p', 1), addKeyword(d, 'bike', 1)]);
    const first = await layered.getStatic([a, b, c, d, `u:${u}#region_absent`]);
    expect(first.map((v) => v?.value)).toEqual([11, 'ios', 'p', ['bike'], undefined]);
    await layered.idle();
    // region & keywords from local, os from redis, plain (uncached) from the store.
    const second = await layered.getStatic([d, c, b, a]);
    expect(second.map((v) => v?.value)).toEqual([['bike'], 'p', 'ios', 11]);
    expect(metrics.level('local').hits).toBe(2);
    expect(metrics.level('redis').hits).toBe(1);
    expect(metrics.level('store').hits).toBe(3); // the first read's three cached-group loads
  });

  it('answers count and lastNSec from a cached complete list exactly as the store does', async () => {
    const { layered, raw, clock } = await rig();
    const pk = `u:${userId()}#clicks`;
    const t0 = clock.t;
    await raw.write(Array.from({ length: 15 }, (_, i) => click(pk, t0 - i * 60_000, `e${i}`, i)));
    const queries = [
      { pk, count: 20, lastNSec: undefined },
      { pk, count: 5, lastNSec: undefined },
      { pk, count: 20, lastNSec: 300 },
      { pk, count: 2, lastNSec: 600 },
    ];
    const expected = await raw.getRanges(queries);
    expect(await layered.getRanges(queries)).toEqual(expected); // from the store (miss)
    await layered.idle();
    expect(await layered.getRanges(queries)).toEqual(expected); // from local
    const redisOnly = `u:${userId()}#searches`;
    await raw.write(
      Array.from({ length: 8 }, (_, i) => ({
        ...click(redisOnly, t0 - i * 1000, `s${i}`, i, 10),
        ttlMs: 3_600_000,
      })),
    );
    const q2 = [
      { pk: redisOnly, count: 10, lastNSec: undefined },
      { pk: redisOnly, count: 3, lastNSec: 4 },
    ];
    const exp2 = await raw.getRanges(q2);
    expect(await layered.getRanges(q2)).toEqual(exp2);
    await layered.idle();
    expect(await layered.getRanges(q2)).toEqual(exp2); // from redis
    // Row TTL holds in the cache too: an hour later every row has expired.
    clock.t += 3_600_000;
    expect(await layered.getRanges(q2)).toEqual([[], []]);
  });

  it('write-through keeps cached entries current; write-around drops them', async () => {
    const { layered, redis } = await rig();
    const u = userId();
    const region = `u:${u}#region`;
    const os = `u:${u}#os`;
    const clicks = `u:${u}#clicks`;
    await layered.write([single(region, 1, 10), single(os, 'android', 10), click(clicks, 10, 'a', 1)]);
    await layered.getStatic([region, os]);
    await layered.getRanges([{ pk: clicks, count: 20, lastNSec: undefined }]);
    await layered.idle();
    await layered.write([single(region, 2, 20), single(os, 'ios', 20), click(clicks, 20, 'b', 2)]);
    await layered.write([single(region, 0, 5)]); // older: must not win in any level
    // Before any read: Redis holds the updated single value and the appended row, and the
    // write-around key is gone.
    const inRedis = await redis.read(
      {
        statics: [region, os],
        ranges: [{ pk: clicks, count: 20, minTs: -Infinity, expiredAtOrBefore: -Infinity }],
      },
      Date.now(),
    );
    expect(inRedis.statics[0]?.value).toEqual({ value: 2, ts: 20 });
    expect(inRedis.statics[1]).toBeUndefined();
    expect(inRedis.ranges[0]?.rows.map((r) => r.eventId)).toEqual(['b', 'a']);
    expect((await layered.getStatic([region, os])).map((v) => v?.value)).toEqual([2, 'ios']);
    const [rows] = await layered.getRanges([{ pk: clicks, count: 20, lastNSec: undefined }]);
    expect(rows?.map((r) => r.eventId)).toEqual(['b', 'a']);
  });

  it('negative caching: an absent key is read from the store once until negativeTtl passes', async () => {
    const { layered, metrics, clock } = await rig();
    const pk = `u:${userId()}#region`;
    for (let i = 0; i < 5; i++) {
      expect(await layered.getStatic([pk])).toEqual([undefined]);
      await layered.idle();
    }
    expect(metrics.level('store').hits).toBe(1);
    // Past negativeTtl the local entry is gone; Redis expires on its own clock, but the entry is
    // past its soft expiry too, so it is served once more and refreshed from the store.
    clock.t += 31_000;
    await layered.getStatic([pk]);
    await layered.idle();
    expect(metrics.level('store').hits).toBe(2);
  });

  it('single flight: concurrent misses of one key cost one store read', async () => {
    const { layered, raw, metrics } = await rig();
    const pk = `u:${userId()}#region`;
    await raw.write([single(pk, 7, 1)]);
    const reads = await Promise.all(Array.from({ length: 50 }, () => layered.getStatic([pk])));
    expect(reads.every(([v]) => v?.value === 7)).toBe(true);
    expect(metrics.level('store').hits).toBe(1);
  });

  it('soft TTL: a due entry is served, refreshed in the background, and the refresh is seen', async () => {
    const { layered, raw, metrics, clock } = await rig();
    const pk = `u:${userId()}#region`;
    await raw.write([single(pk, 1, 1)]);
    await layered.getStatic([pk]);
    await layered.idle();
    await raw.write([single(pk, 2, 2)]); // behind the cache's back
    expect((await layered.getStatic([pk]))[0]?.value).toBe(1);
    clock.t += 5 * 60_000 + 1; // past the soft TTL, before the hard one
    expect((await layered.getStatic([pk]))[0]?.value).toBe(1); // stale-while-revalidate
    await layered.idle();
    expect(metrics.refreshes).toBeGreaterThanOrEqual(1);
    expect((await layered.getStatic([pk]))[0]?.value).toBe(2);
  });

  it('admission: with second-read admission a key enters the local level only on its second read', async () => {
    const { layered, raw, local } = await rig({ admission: 'second-read' });
    const pk = `u:${userId()}#region`;
    await raw.write([single(pk, 3, 1)]);
    await layered.getStatic([pk]);
    await layered.idle();
    expect(local.stats().entries).toBe(0);
    await layered.getStatic([pk]);
    await layered.idle();
    expect(local.stats().entries).toBe(1);
  });

  it('the local level stays within its byte budget', async () => {
    const { layered, raw, local } = await rig({ maxBytes: 20_000 });
    const pks = Array.from({ length: 200 }, () => `u:${userId()}#region`);
    await raw.write(pks.map((pk) => single(pk, 'x'.repeat(200), 1)));
    await layered.getStatic(pks);
    await layered.idle();
    const { entries, bytes } = local.stats();
    expect(bytes).toBeLessThanOrEqual(20_000);
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThan(200);
  });

  it("one Redis pipeline for a request's static and range reads made in the same tick", async () => {
    const { layered, raw, redis } = await rig();
    const u = userId();
    const statics = [`u:${u}#os`, `u:${u}#region`];
    const ranges = [`u:${u}#searches`, `u:${u}#clicks`];
    await raw.write([single(statics[0] as string, 'a', 1), single(statics[1] as string, 1, 1)]);
    await layered.getStatic(statics);
    await layered.getRanges(ranges.map((pk) => ({ pk, count: 5, lastNSec: undefined })));
    await layered.idle();
    const original = redis.client.pipeline.bind(redis.client);
    let pipelines = 0;
    redis.client.pipeline = ((...args: Parameters<typeof original>) => {
      pipelines++;
      return original(...args);
    }) as typeof original;
    // As the request loader does: both calls in one synchronous pass.
    const [s, r] = await Promise.all([
      layered.getStatic(statics),
      layered.getRanges(ranges.map((pk) => ({ pk, count: 5, lastNSec: undefined }))),
    ]);
    expect(s.map((v) => v?.value)).toEqual(['a', 1]);
    expect(r).toEqual([[], []]);
    // os and searches live in Redis only (region and clicks are local hits): one pipeline.
    expect(pipelines).toBe(1);
  });

  it('stampede: many concurrent reads of a soft-expired key start one refresh', async () => {
    const { layered, raw, metrics, clock } = await rig();
    const pk = `u:${userId()}#region`;
    await raw.write([single(pk, 1, 1)]);
    await layered.getStatic([pk]);
    await layered.idle();
    clock.t += 6 * 60_000;
    const reads = await Promise.all(Array.from({ length: 100 }, () => layered.getStatic([pk])));
    expect(reads.every(([v]) => v?.value === 1)).toBe(true);
    await layered.idle();
    expect(metrics.refreshes).toBe(1);
    expect(metrics.level('store').hits).toBe(2);
  });
});

describe('XFetch', () => {
  it('refreshes never far from expiry, always after it, and more often as it nears', () => {
    const soft = 1_000_000;
    const u = (x: number) => () => x;
    expect(shouldRefreshEarly(soft - 60_000, soft, 10, 1, u(0.5))).toBe(false);
    expect(shouldRefreshEarly(soft, soft, 10, 1, u(0.0))).toBe(true);
    // -10ms * ln(1 - 0.99) ≈ 46 ms early at the 99th percentile.
    expect(shouldRefreshEarly(soft - 40, soft, 10, 1, u(0.99))).toBe(true);
    expect(shouldRefreshEarly(soft - 50, soft, 10, 1, u(0.99))).toBe(false);
    const rate = (gap: number) => {
      let seeded = 42;
      const random = () => (seeded = (seeded * 16807) % 2147483647) / 2147483647;
      let hits = 0;
      for (let i = 0; i < 10_000; i++) if (shouldRefreshEarly(soft - gap, soft, 10, 1, random)) hits++;
      return hits / 10_000;
    };
    expect(rate(5)).toBeGreaterThan(rate(20));
    expect(rate(20)).toBeGreaterThan(rate(40));
    expect(rate(200)).toBe(0);
  });
});
