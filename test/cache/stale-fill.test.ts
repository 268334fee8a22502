import { afterEach, describe, expect, it } from 'vitest';
import { CacheMetrics } from '../../src/cache/cache-metrics.ts';
import { createLayeredStore, type LayeredStore } from '../../src/cache/layered-store.ts';
import { LocalCacheLevel } from '../../src/cache/local-level.ts';
import { RedisCacheLevel } from '../../src/cache/redis-level.ts';
import type { OnlineStore } from '../../src/store/online-store.ts';
import { cacheRegistry, click, namespace, single, tempLmdbStore, userId } from './cache-fixtures.ts';
import { GatedStore } from './gated-store.ts';

const REDIS_URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function rig(): Promise<{
  layered: LayeredStore;
  gated: GatedStore;
  raw: OnlineStore;
  local: LocalCacheLevel;
  redis: RedisCacheLevel;
  metrics: CacheMetrics;
}> {
  const { store: raw, cleanup } = await tempLmdbStore();
  const gated = new GatedStore(raw);
  const metrics = new CacheMetrics();
  const local = new LocalCacheLevel({ maxBytes: 1 << 20, admission: 'always' });
  const redis = new RedisCacheLevel({ url: REDIS_URL, namespace: namespace(), metrics });
  const layered = createLayeredStore({
    store: gated,
    registry: await cacheRegistry(),
    local,
    redis,
    metrics,
  });
  await layered.open();
  cleanups.push(async () => {
    await layered.close();
    await cleanup();
  });
  return { layered, gated, raw, local, redis, metrics };
}

/** What each level holds for a static pk right now (bypassing the read path). */
async function cachedStatic(local: LocalCacheLevel, redis: RedisCacheLevel, pk: string) {
  const req = { statics: [pk], ranges: [] };
  return {
    local: local.readNow(req, Date.now()).statics[0]?.value?.value,
    redis: (await redis.read(req, Date.now())).statics[0]?.value?.value,
  };
}

describe('no stale fill: a miss-fill racing a newer write never overwrites it', () => {
  it('the race is real: a fill guarded by a lease taken AFTER the write lands the stale value', async () => {
    const { raw, redis, local } = await rig();
    const pk = `u:${userId()}#region`;
    await raw.write([single(pk, 'old', 1)]);
    const [stale] = await raw.getStatic([pk]); // a reader's store read...
    await raw.write([single(pk, 'new', 2)]); // ...then a newer write lands in the store
    // A fill whose guard knows nothing of that write (here: a lease taken after it) goes through.
    const life = { expiresAt: Date.now() + 60_000, softExpiresAt: Date.now() + 30_000, loadMs: 1 };
    const [redisLease] = await redis.lease([pk]);
    const [localLease] = local.leaseNow([pk]);
    expect(await redis.fill([{ kind: 'static', pk, lease: redisLease as string, value: stale, life }])).toBe(
      1,
    );
    expect(await local.fill([{ kind: 'static', pk, lease: localLease as string, value: stale, life }])).toBe(
      1,
    );
    expect(await cachedStatic(local, redis, pk)).toEqual({ local: 'old', redis: 'old' });
  });

  it('static: read old → write new → fill old is refused in both levels', async () => {
    const { layered, gated, raw, local, redis, metrics } = await rig();
    const pk = `u:${userId()}#region`;
    await raw.write([single(pk, 'old', 1)]);
    const hold = gated.holdNextRead();
    const reading = layered.getStatic([pk]);
    await hold.readDone; // the store answered 'old'; the fill has not run
    await layered.write([single(pk, 'new', 2)]);
    hold.release();
    expect((await reading)[0]?.value).toBe('old'); // linearised before the write: a state that existed
    await layered.idle();
    expect(metrics.level('redis').fillsRefused).toBe(1);
    expect(metrics.level('local').fillsRefused).toBe(1);
    expect(metrics.level('local').fillsLanded + metrics.level('redis').fillsLanded).toBe(0);
    const after = await cachedStatic(local, redis, pk);
    expect(after.local).not.toBe('old');
    expect(after.redis).not.toBe('old');
    expect((await layered.getStatic([pk]))[0]?.value).toBe('new');
    await layered.idle();
    expect(await cachedStatic(local, redis, pk)).toEqual({ local: 'new', redis: 'new' });
  });

  it('action: a full-list fill racing an append is refused; the next read has the appended row', async () => {
    const { layered, gated, raw, redis } = await rig();
    const pk = `u:${userId()}#clicks`;
    await raw.write([click(pk, 1, 'a', 1)]);
    const hold = gated.holdNextRead();
    const reading = layered.getRanges([{ pk, count: 20, lastNSec: undefined }]);
    await hold.readDone;
    await layered.write([click(pk, 2, 'b', 2)]);
    hold.release();
    expect((await reading)[0]?.map((r) => r.eventId)).toEqual(['a']);
    await layered.idle();
    const lookup = { pk, count: 20, minTs: -Infinity, expiredAtOrBefore: -Infinity };
    expect((await redis.read({ statics: [], ranges: [lookup] }, Date.now())).ranges[0]).toBeUndefined();
    expect(
      (await layered.getRanges([{ pk, count: 20, lastNSec: undefined }]))[0]?.map((r) => r.eventId),
    ).toEqual(['b', 'a']);
  });

  it('action, other interleaving: fill lands first, then the append updates it (write-through)', async () => {
    const { layered, raw, redis, local } = await rig();
    const pk = `u:${userId()}#clicks`;
    await raw.write([click(pk, 1, 'a', 1)]);
    await layered.getRanges([{ pk, count: 20, lastNSec: undefined }]);
    await layered.idle(); // the fill of ['a'] landed in both levels
    await layered.write([click(pk, 2, 'b', 2)]);
    const lookup = { pk, count: 20, minTs: -Infinity, expiredAtOrBefore: -Infinity };
    const fromRedis = (await redis.read({ statics: [], ranges: [lookup] }, Date.now())).ranges[0];
    const fromLocal = local.readNow({ statics: [], ranges: [lookup] }, Date.now()).ranges[0];
    expect(fromRedis?.rows.map((r) => r.eventId)).toEqual(['b', 'a']);
    expect(fromLocal?.rows.map((r) => r.eventId)).toEqual(['b', 'a']);
  });
});
