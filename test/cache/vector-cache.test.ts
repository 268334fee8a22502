import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheMetrics } from '../../src/cache/cache-metrics.ts';
import { createLayeredStore } from '../../src/cache/layered-store.ts';
import { LocalCacheLevel } from '../../src/cache/local-level.ts';
import { dataKey } from '../../src/cache/redis-codec.ts';
import { RedisCacheLevel } from '../../src/cache/redis-level.ts';
import { FloatVector, vectorBytes } from '../../src/keys/float-vector.ts';
import { floatVector } from '../store/conformance-vectors.ts';
import { cacheRegistry, namespace, single, tempLmdbStore, userId } from './cache-fixtures.ts';

/**
 * Vectors through the cache levels: the Redis level keeps them as float32 bytes (read back raw
 * here), the in-process level as the FloatVector itself, and both answer what the store holds.
 */

const REDIS_URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const REGISTRY = `
entities:
  user: { prefix: "u:", idType: int, idField: user_id }
streams:
  ev: { source: http }
features:
  user:
    emb_redis:
      cache: { levels: [redis], ttl: 10m }
      events: [{ streamName: ev, topic: t, fields: [{ name: emb_redis, type: "vector(384)" }] }]
    emb_local:
      cache: { levels: [local], ttl: 10m }
      events: [{ streamName: ev, topic: t, fields: [{ name: emb_local, type: "vector(384)" }] }]
    seen:
      featureType: action
      cache: { levels: [redis], ttl: 10m }
      events: [{ streamName: ev, topic: t, fields: [{ name: embedding, type: "vector(384)" }] }]
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('vectors in the cache levels', () => {
  it('caches a vector in Redis as float32 bytes and serves it back from there', async () => {
    const ns = namespace();
    const { store: raw, cleanup } = await tempLmdbStore();
    const metrics = new CacheMetrics();
    const layered = createLayeredStore({
      store: raw,
      registry: await cacheRegistry(REGISTRY),
      local: new LocalCacheLevel({ maxBytes: 1 << 20, admission: 'always' }),
      redis: new RedisCacheLevel({ url: REDIS_URL, namespace: ns, metrics }),
      metrics,
    });
    await layered.open();
    const client = new Redis(REDIS_URL);
    cleanups.push(async () => {
      await layered.close();
      await cleanup();
      client.disconnect();
    });

    const u = userId();
    const v = floatVector(384, 3);
    const [redisPk, localPk, rowsPk] = ['emb_redis', 'emb_local', 'seen'].map((g) => `u:${u}#${g}`) as [
      string,
      string,
      string,
    ];
    await raw.write([
      single(redisPk, v, 1),
      single(localPk, v, 1),
      {
        kind: 'action',
        pk: rowsPk,
        row: { ts: 5, eventId: 'e1', values: { embedding: v } },
        maxCount: 100,
        ttlMs: undefined,
      },
    ]);
    const first = await layered.getStatic([redisPk, localPk]);
    const firstRows = await layered.getRanges([{ pk: rowsPk, count: 10, lastNSec: undefined }]);
    await layered.idle();

    const cached = await client.getBuffer(dataKey(ns, redisPk));
    expect(cached).not.toBeNull();
    // A text header (`ts|softExpiresAt|loadMs|`), then 1,536 bytes of float32 and a few of framing.
    expect(cached!.length).toBeLessThan(384 * 4 + 64);
    expect(cached!.indexOf(vectorBytes(v))).toBeGreaterThan(0);
    const member = (await client.zrangeBuffer(dataKey(ns, rowsPk), 0, -1)).find((m) => m[0] !== 1);
    expect(member!.length).toBeLessThan(384 * 4 + 32);
    expect(member!.indexOf(vectorBytes(v))).toBeGreaterThan(0);

    const second = await layered.getStatic([redisPk, localPk]);
    const secondRows = await layered.getRanges([{ pk: rowsPk, count: 10, lastNSec: undefined }]);
    expect(metrics.level('redis').hits).toBe(2);
    expect(metrics.level('local').hits).toBe(1);
    for (const read of [...first, ...second]) {
      expect(read?.value).toBeInstanceOf(FloatVector);
      expect(Array.from(read?.value as Float32Array)).toEqual(Array.from(v));
    }
    for (const rows of [firstRows[0], secondRows[0]]) {
      expect(rows).toHaveLength(1);
      expect(rows?.[0]?.values['embedding']).toBeInstanceOf(FloatVector);
      expect(Array.from(rows?.[0]?.values['embedding'] as Float32Array)).toEqual(Array.from(v));
    }
  });
});
