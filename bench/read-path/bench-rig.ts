import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { CacheMetrics } from '../../src/cache/cache-metrics.ts';
import { createLayeredStore, type LayeredStore } from '../../src/cache/layered-store.ts';
import { LocalCacheLevel } from '../../src/cache/local-level.ts';
import { RedisCacheLevel } from '../../src/cache/redis-level.ts';
import { openLmdbEnv, type LmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import type { OnlineStore } from '../../src/store/online-store.ts';
import { benchRegistry } from './profile-fixture.ts';

export let REDIS_URL = process.env.LARDER_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * `--own-redis`: a redis-server of the benchmark's own on a free port (no persistence), so other
 * clients of a shared Redis do not skew the figures. Returns a stop function.
 */
export async function useOwnRedis(): Promise<() => void> {
  const port = await new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
  const child = spawn('/usr/bin/redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  REDIS_URL = `redis://127.0.0.1:${port}`;
  for (let tries = 0; !(await accepts(port)); tries++) {
    if (tries > 200) throw new Error(`redis-server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return () => child.kill('SIGTERM');
}

/** The LMDB store the benchmarks read through (fsync off: the data is throwaway). */
export function openBenchStore(): { store: LmdbStore; env: LmdbEnv; remove(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'larder-bench-read-'));
  const env = openLmdbEnv(dir, { sync: false });
  const store = new LmdbStore(env);
  return {
    store,
    env,
    async remove() {
      await store.close();
      await env.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface CacheRig {
  readonly layered: LayeredStore;
  readonly metrics: CacheMetrics;
  readonly local: LocalCacheLevel | undefined;
  readonly redis: RedisCacheLevel | undefined;
  readonly namespace: string;
  /** Closes the levels (not the shared store) and deletes this rig's Redis keys. */
  close(): Promise<void>;
}

/** A layered store over `store` with the given levels, on a Redis namespace of its own. */
export async function cacheRig(
  store: OnlineStore,
  levels: { local?: { maxBytes: number; admission: 'always' | 'second-read' }; redis?: boolean },
): Promise<CacheRig> {
  const metrics = new CacheMetrics();
  const namespace = `larder-bench:${randomUUID().slice(0, 8)}:`;
  const local = levels.local === undefined ? undefined : new LocalCacheLevel(levels.local);
  const redis = levels.redis ? new RedisCacheLevel({ url: REDIS_URL, namespace, metrics }) : undefined;
  const names = [local ? 'local' : '', redis ? 'redis' : ''].filter(Boolean).join(', ');
  const layered = createLayeredStore({ store, registry: await benchRegistry(names), local, redis, metrics });
  await redis?.open();
  return {
    layered,
    metrics,
    local,
    redis,
    namespace,
    async close() {
      await layered.idle();
      await redis?.close();
      await local?.close();
      await deleteNamespace(namespace);
    },
  };
}

export async function deleteNamespace(namespace: string): Promise<void> {
  const client = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${namespace}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
  await client.quit();
}
