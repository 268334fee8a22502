import { afterEach, describe, expect, it } from 'vitest';
import { CacheMetrics } from '../../src/cache/cache-metrics.ts';
import { createLayeredStore, type LayeredStore } from '../../src/cache/layered-store.ts';
import { LocalCacheLevel } from '../../src/cache/local-level.ts';
import { RedisCacheLevel } from '../../src/cache/redis-level.ts';
import { cacheRegistry, click, namespace, single, tempLmdbStore, userId } from './cache-fixtures.ts';
import { ownRedis, type OwnRedis } from './redis-server.ts';
import { waitUntil } from '../support/wait-until.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function rig(
  server: OwnRedis,
): Promise<{ layered: LayeredStore; redis: RedisCacheLevel; metrics: CacheMetrics }> {
  const { store, cleanup } = await tempLmdbStore();
  const metrics = new CacheMetrics();
  const redis = new RedisCacheLevel({ url: server.url, namespace: namespace(), metrics });
  const local = new LocalCacheLevel({ maxBytes: 1 << 20, admission: 'always' });
  const layered = createLayeredStore({ store, registry: await cacheRegistry(), local, redis, metrics });
  await layered.open();
  cleanups.push(async () => {
    await layered.close();
    await cleanup();
  });
  return { layered, redis, metrics };
}

async function degradedGauge(metrics: CacheMetrics): Promise<number | undefined> {
  const gauge = await metrics.registry.getSingleMetric('larder_cache_degraded')?.get();
  return gauge?.values.find((v) => v.labels.level === 'redis')?.value;
}

describe('Redis outage', () => {
  it('serving goes on from the store with no errors; Larder reconnects and drops what it missed', async () => {
    const server = await ownRedis();
    cleanups.push(() => server.destroy());
    await server.start();
    const { layered, redis, metrics } = await rig(server);
    await waitUntil(() => redis.available(), 15_000, 'redis ready');
    const u = userId();
    const os = `u:${u}#os`; // redis only, write-around
    const searches = `u:${u}#searches`; // action, redis only
    const region = `u:${u}#region`; // local + redis
    const now = Date.now();
    await layered.write([single(os, 'android', 1), single(region, 1, 1), click(searches, now, 's1', 1, 10)]);
    const range = [{ pk: searches, count: 10, lastNSec: undefined }];
    await layered.getStatic([os, region]);
    await layered.getRanges(range);
    await layered.idle();
    await layered.getStatic([os]);
    expect(metrics.level('redis').hits).toBe(1);
    expect(await degradedGauge(metrics)).toBe(0);

    await server.stop();
    await waitUntil(() => !redis.available(), 15_000, 'redis seen down');
    // Reads and writes go on, from and to the store, without an error.
    expect((await layered.getStatic([os, region])).map((v) => v?.value)).toEqual(['android', 1]);
    await layered.write([single(os, 'ios', 2), click(searches, now + 1, 's2', 2, 10)]);
    expect((await layered.getStatic([os]))[0]?.value).toBe('ios');
    expect((await layered.getRanges(range))[0]?.map((r) => r.eventId)).toEqual(['s2', 's1']);
    await layered.idle();
    expect(await degradedGauge(metrics)).toBe(1);
    expect(redis.pendingDrops()).toBe(2);
    expect(await layered.ping()).toBe(true);

    // Redis comes back with its snapshot: the old 'android' entry is still in it.
    await server.start();
    await waitUntil(() => redis.available() && redis.pendingDrops() === 0, 15_000, 'reconnect');
    expect(await degradedGauge(metrics)).toBe(0);
    expect((await layered.getStatic([os]))[0]?.value).toBe('ios');
    expect((await layered.getRanges(range))[0]?.map((r) => r.eventId)).toEqual(['s2', 's1']);
    await layered.idle();
    const hitsBefore = metrics.level('redis').hits;
    expect((await layered.getStatic([os]))[0]?.value).toBe('ios');
    expect(metrics.level('redis').hits).toBe(hitsBefore + 1);
  }, 60_000);

  it('starts and serves with Redis down from the beginning', async () => {
    const server = await ownRedis(); // never started
    cleanups.push(() => server.destroy());
    const { layered, metrics } = await rig(server);
    const pk = `u:${userId()}#os`;
    await layered.write([single(pk, 'linux', 1)]);
    expect((await layered.getStatic([pk]))[0]?.value).toBe('linux');
    expect(await degradedGauge(metrics)).toBe(1);
  });
});
