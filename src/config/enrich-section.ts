import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_REDIS_URL, durationMs, positiveInt, redisConnection, section } from './config-values.ts';

/**
 * `enrich:`, the enrichment workers (`larder enrich`, and the workers inside `larder serve` in
 * embedded mode; docs/enrichment.md):
 *
 * ```yaml
 * enrich:
 *   mode: embedded           # embedded (queue in the LMDB data directory) | distributed (BullMQ on Redis)
 *   redis: {url: "redis://127.0.0.1:6379"}   # distributed: the queue
 *   prefix: larder           # distributed: Redis key prefix of the queues
 *   threads: 2               # module handlers: worker threads (default: CPU count)
 *   scaleInterval: 1s        # how often each enricher's concurrency is reconsidered
 *   scaleStep: 2             # slots added per interval while the backlog grows (and taken away when idle)
 *   leaseGrace: 5s           # a running invocation is retried once timeout + leaseGrace pass without an outcome
 *   retention: 1d            # succeeded invocations are kept (for their status) this long
 *   pollInterval: 250ms      # an idle worker looks for new invocations at least this often
 * ```
 */
export interface EnrichConfig {
  readonly mode: 'embedded' | 'distributed';
  readonly redisUrl: string;
  readonly prefix: string;
  readonly threads: number;
  readonly scaleIntervalMs: number;
  readonly scaleStep: number;
  readonly leaseGraceMs: number;
  readonly retentionMs: number;
  readonly pollIntervalMs: number;
}

export const enrichSection = section(
  z
    .object({
      mode: z.enum(['embedded', 'distributed'], { error: 'must be embedded or distributed' }).optional(),
      redis: section(redisConnection).optional(),
      prefix: z
        .string({ error: 'must be a string' })
        .regex(/^[A-Za-z0-9_.:-]+$/, { error: 'must be letters, digits and _ . : -' })
        .optional(),
      threads: positiveInt.max(256, { error: 'must be a whole number from 1 to 256' }).optional(),
      scaleInterval: durationMs.optional(),
      scaleStep: positiveInt.optional(),
      leaseGrace: durationMs.optional(),
      retention: durationMs.optional(),
      pollInterval: durationMs.optional(),
    })
    .strict(),
);

export type EnrichSection = z.output<typeof enrichSection>;

export function enrichConfigFromSection(s: EnrichSection = {}): EnrichConfig {
  return {
    mode: s.mode ?? 'embedded',
    redisUrl: s.redis?.url ?? DEFAULT_REDIS_URL,
    prefix: s.prefix ?? 'larder',
    threads: s.threads ?? Math.max(1, os.availableParallelism()),
    scaleIntervalMs: Math.max(10, s.scaleInterval ?? 1_000),
    scaleStep: s.scaleStep ?? 1,
    leaseGraceMs: s.leaseGrace ?? 5_000,
    retentionMs: s.retention ?? 86_400_000,
    pollIntervalMs: Math.max(1, s.pollInterval ?? 250),
  };
}
