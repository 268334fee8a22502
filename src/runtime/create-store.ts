import path from 'node:path';
import type { Logger } from 'pino';
import { CacheMetrics, type CacheHitSink } from '../cache/cache-metrics.ts';
import { createLayeredStore } from '../cache/layered-store.ts';
import { LocalCacheLevel } from '../cache/local-level.ts';
import { RedisCacheLevel } from '../cache/redis-level.ts';
import type { RegistryHolder } from '../registry/registry-holder.ts';
import { DynamoStore } from '../store/dynamodb/dynamodb-store.ts';
import type { LmdbEnv } from '../store/lmdb/lmdb-env.ts';
import { LmdbStore } from '../store/lmdb/lmdb-store.ts';
import type { OnlineStore } from '../store/online-store.ts';
import type { LarderConfig } from '../config/config.ts';

export interface CreateStoreOptions {
  readonly registry: RegistryHolder;
  /** The `--data` directory: where LMDB lives when `store.path` is not set. */
  readonly dataDir: string;
  /**
   * An LMDB environment already open on that directory (the runtime shares one with the
   * dead-letter table). Without it the store opens and closes its own.
   */
  readonly lmdbEnv?: LmdbEnv;
  /** Where cache hits and misses are reported (the server's `ServeMetrics`). */
  readonly hitSink?: CacheHitSink;
  readonly cacheMetrics?: CacheMetrics;
  readonly logger?: Logger;
}

/**
 * Builds the online store the config asks for: LMDB or DynamoDB, wrapped in the layered cache when
 * a cache level is configured. The result is not opened yet: call `open()` (it also connects
 * Redis; a Redis that is down only degrades the cache).
 */
export function createStoreFromConfig(config: LarderConfig, options: CreateStoreOptions): OnlineStore {
  const store: OnlineStore =
    config.store.type === 'dynamodb'
      ? new DynamoStore({
          table: config.store.table,
          endpoint: config.store.endpoint,
          region: config.store.region,
        })
      : new LmdbStore(lmdbSource(config, options));
  const { local: localConfig, redis: redisConfig } = config.cache;
  if (localConfig === undefined && redisConfig === undefined) return store;
  const metrics = options.cacheMetrics ?? new CacheMetrics(options.hitSink ? { sink: options.hitSink } : {});
  const logger = options.logger;
  return createLayeredStore({
    store,
    registry: options.registry,
    metrics,
    local: localConfig === undefined ? undefined : new LocalCacheLevel({ maxBytes: localConfig.maxBytes }),
    redis:
      redisConfig === undefined
        ? undefined
        : new RedisCacheLevel({
            url: redisConfig.url,
            metrics,
            onStateChange: (state, detail) => {
              if (state === 'ready') logger?.info('redis cache level connected');
              else
                logger?.warn(
                  { detail },
                  'redis cache level unreachable; serving from the store until it returns',
                );
            },
          }),
    onBackgroundError: (err) => logger?.warn({ err }, 'cache back-fill failed'),
  });
}

function lmdbSource(config: LarderConfig, options: CreateStoreOptions): LmdbEnv | string {
  const dir = config.store.path ?? path.resolve(options.dataDir);
  if (options.lmdbEnv !== undefined && path.dirname(options.lmdbEnv.path) === dir) return options.lmdbEnv;
  return dir;
}
