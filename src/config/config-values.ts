import { z } from 'zod';
import { parseDuration } from '../registry/duration.ts';
import { parseByteSize } from './byte-size.ts';

/**
 * The kinds of value a config file holds, as zod types shared by every section. Each carries the
 * message a user reads after the key's path, e.g. `serve.hotEntityTtl must be a duration like 30s`.
 */

/** A duration with its unit (`500ms`, `30s`, `10m`, `12h`, `30d`), parsed to milliseconds. */
export const durationMs = z
  .string({ error: 'must be a duration like 500ms, 30s, 10m or 1h' })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration like 500ms, 30s, 10m or 1h' });
      return z.NEVER;
    }
    return ms;
  });

/** A memory size: bytes (`1048576`) or a number with a unit (`512kb`, `256mb`, `1.5gb`). */
export const byteSize = z
  .union([z.number(), z.string()], { error: 'must be a size like 256mb or 1gb' })
  .transform((value, ctx) => {
    const bytes = parseByteSize(value);
    if (bytes === undefined || bytes <= 0) {
      ctx.addIssue({ code: 'custom', message: 'must be a size like 256mb or 1gb' });
      return z.NEVER;
    }
    return bytes;
  });

export const positiveInt = z
  .number({ error: 'must be a whole number of at least 1' })
  .int({ error: 'must be a whole number of at least 1' })
  .min(1, { error: 'must be a whole number of at least 1' });

export const nonEmptyString = z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty');

export const flag = z.boolean({ error: 'must be true or false' });

/** A URL whose scheme is one of `protocols` (without the colon). */
export function urlWith(protocols: readonly string[]) {
  const message = `must be a ${protocols.map((p) => `${p}://`).join(' or ')} URL`;
  return z.string({ error: message }).refine(
    (text) => {
      try {
        return protocols.includes(new URL(text).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message },
  );
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * A Redis connection, written the same way wherever the file names one (`cache.redis`,
 * `batch.redis`; a Redis Streams binding's `connection` has the same `url`): `{url}`, default
 * `redis://127.0.0.1:6379`. `LARDER_REDIS_URL` overrides the URL of each one the file uses.
 */
export const redisConnection = z
  .object({ url: urlWith(['redis', 'rediss']).optional() })
  .strict()
  .transform((c) => ({ url: c.url ?? DEFAULT_REDIS_URL }));

export type RedisConnection = z.output<typeof redisConnection>;

/**
 * A map section. A key given without a value (`cache:` or `local: ~`) reads as an empty map, so it
 * takes its defaults.
 */
export function section<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === null ? {} : value), schema);
}
