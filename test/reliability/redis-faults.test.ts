import { afterEach, describe, expect, it } from 'vitest';
import { CacheMetrics } from '../../src/cache/cache-metrics.ts';
import { createLayeredStore, type LayeredStore } from '../../src/cache/layered-store.ts';
import { RedisCacheLevel } from '../../src/cache/redis-level.ts';
import { cacheRegistry, namespace, single, tempLmdbStore, userId } from '../cache/cache-fixtures.ts';
import { ownRedis, type OwnRedis } from '../cache/redis-server.ts';
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
  const redis = new RedisCacheLevel({
    url: server.url,
    namespace: namespace(),
    metrics,
    breakerResetMs: 300,
  });
  const layered = createLayeredStore({ store, registry: await cacheRegistry(), redis, metrics });
  await layered.open();
  cleanups.push(async () => {
    await layered.close();
    await cleanup();
  });
  return { layered, redis, metrics };
}

/** Wall time of `fn`, ms. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

describe('a hung Redis (SIGSTOP)', () => {
  it('costs a few timeouts, then reads route around it to the store; it is used again once it answers', async () => {
    const server = await ownRedis();
    cleanups.push(() => server.destroy());
    await server.start();
    const { layered, redis, metrics } = await rig(server);
    await waitUntil(() => redis.available(), 15_000, 'redis ready');
    const pks = Array.from({ length: 30 }, () => `u:${userId()}#os`); // redis-only, write-around
    await layered.write(pks.map((pk, i) => single(pk, `os-${i}`, 1)));
    for (const pk of pks) await layered.getStatic([pk]);
    await layered.idle();

    server.pause();
    // Every read still answers, from the store. Only the first few wait for Redis's timeout.
    const times: number[] = [];
    for (const [i, pk] of pks.entries()) {
      times.push(await timed(async () => expect((await layered.getStatic([pk]))[0]?.value).toBe(`os-${i}`)));
    }
    const slow = times.filter((ms) => ms >= 200).length;
    expect(slow).toBeLessThanOrEqual(3);
    expect(times.slice(5).reduce((a, b) => a + b, 0)).toBeLessThan(25 * 50);
    expect(redis.available()).toBe(false);
    expect(metrics.isDegraded('redis')).toBe(true);

    server.resume();
    await waitUntil(() => redis.available(), 15_000, 'the breaker to close once Redis answers');
    expect(metrics.isDegraded('redis')).toBe(false);
    const hits = metrics.level('redis').hits;
    expect((await layered.getStatic([pks[0]!]))[0]?.value).toBe('os-0');
    expect(metrics.level('redis').hits).toBe(hits + 1);
  }, 60_000);

  it('killed outright: reads go on from the store, and Redis is used again once it is back', async () => {
    const server = await ownRedis();
    cleanups.push(() => server.destroy());
    await server.start();
    const { layered, redis } = await rig(server);
    await waitUntil(() => redis.available(), 15_000, 'redis ready');
    const pk = `u:${userId()}#os`;
    await layered.write([single(pk, 'linux', 1)]);
    await server.kill();
    for (let i = 0; i < 10; i++) {
      expect(
        await timed(async () => expect((await layered.getStatic([pk]))[0]?.value).toBe('linux')),
      ).toBeLessThan(250);
    }
    await server.start();
    await waitUntil(() => redis.available(), 15_000, 'reconnect');
    expect((await layered.getStatic([pk]))[0]?.value).toBe('linux');
  }, 60_000);
});
