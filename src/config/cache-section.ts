import { z } from 'zod';
import { byteSize, redisConnection, section, type RedisConnection } from './config-values.ts';

/**
 * `cache:`, the cache levels in front of the store:
 *
 * ```yaml
 * cache:
 *   local: {maxBytes: 256mb}           # in-process level; omit a level to disable it
 *   redis: {url: "redis://127.0.0.1:6379"}
 * ```
 *
 * No `cache:` section at all is the zero-config default, a 256 MB in-process level; `cache: {}`
 * turns every level off; `local: {}` means 256 MB, `redis: {}` the default URL.
 */
export interface CacheConfig {
  /** Undefined: no in-process level. */
  readonly local: { readonly maxBytes: number } | undefined;
  /** Undefined: no Redis level. */
  readonly redis: RedisConnection | undefined;
}

export const DEFAULT_LOCAL_MAX_BYTES = 256 * 1024 ** 2;

export const cacheSection = section(
  z
    .object({
      local: section(z.object({ maxBytes: byteSize.optional() }).strict()).optional(),
      redis: section(redisConnection).optional(),
    })
    .strict(),
);

export type CacheSection = z.output<typeof cacheSection>;

/** The zero-config cache, for a file without a `cache:` section. */
export const DEFAULT_CACHE_SECTION = { local: {} };

export function cacheConfigFrom(s: CacheSection): CacheConfig {
  return {
    local: s.local === undefined ? undefined : { maxBytes: s.local.maxBytes ?? DEFAULT_LOCAL_MAX_BYTES },
    redis: s.redis,
  };
}
