import type { Logger } from 'pino';
import { CacheMetrics, type CacheHitSink } from '../cache/cache-metrics.ts';
import { createLayeredStore } from '../cache/layered-store.ts';
import { LocalCacheLevel } from '../cache/local-level.ts';
import { RedisCacheLevel } from '../cache/redis-level.ts';
import type { RegistryHolder } from '../registry/registry-holder.ts';
import type { LmdbEnv } from '../store/lmdb/lmdb-env.ts';
import type { OnlineStore } from '../store/online-store.ts';
import { storeFromConfig } from '../store/store-from-config.ts';
import type { LarderConfig } from '../config/load-config.ts';

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
export function createStoreFromConfig(
  config: Pick<LarderConfig, 'store' | 'cache'>,
  options: CreateStoreOptions,
): OnlineStore {
  const store = storeFromConfig(config.store, {
    dataDir: options.dataDir,
    ...(options.lmdbEnv === undefined ? {} : { lmdbEnv: options.lmdbEnv }),
  });
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
