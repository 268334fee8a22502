import os from 'node:os';
import { z } from 'zod';
import { LarderError } from '../errors.ts';
import {
  DEFAULT_REDIS_URL,
  durationMs,
  flag,
  nonEmptyString,
  redisConnection,
  section,
  urlWith,
} from './config-values.ts';

/**
 * `batch:`, batch ingestion (`larder backfill`, `jobs`, `scheduler`, `worker`, and the scheduler
 * inside `larder serve`):
 *
 * ```yaml
 * batch:
 *   mode: embedded            # embedded (thread pool, jobs in LMDB) | distributed (BullMQ + Redis)
 *   redis: {url: "redis://127.0.0.1:6379"}   # distributed: queue and job store
 *   prefix: larder            # distributed: Redis key prefix of the queue and the job store
 *   threads: 2                # embedded: pool threads (default: CPU count)
 *   targetDuration: 2m        # auto parallelism aims for jobs that finish in about this long
 *   stuckAfter: 10m           # alert when a runnable/running job makes no progress this long
 *   webhook: https://hooks.example.com/larder   # POSTed the stuck or failed job, with its URL
 *   consoleUrl: https://larder.example.com      # base of the job's stable URL (/jobs/<id>)
 *   lockDuration: 30s         # distributed: a task whose worker stops renewing this long is retried
 *   s3: {endpoint: http://127.0.0.1:4569, region: us-east-1, forcePathStyle: true}
 * ```
 */
export interface BatchConfig {
  readonly mode: 'embedded' | 'distributed';
  readonly redisUrl: string;
  readonly prefix: string;
  /** Embedded mode: threads in the pool. */
  readonly threads: number;
  readonly targetSeconds: number;
  readonly stuckAfterMs: number;
  readonly webhook: string | undefined;
  readonly consoleUrl: string;
  readonly lockDurationMs: number;
  readonly s3: {
    readonly endpoint?: string;
    readonly region?: string;
    readonly forcePathStyle?: boolean;
    readonly accessKeyId?: string;
    readonly secretAccessKey?: string;
  };
}

export const batchSection = section(
  z
    .object({
      mode: z.enum(['embedded', 'distributed'], { error: 'must be embedded or distributed' }).optional(),
      redis: section(redisConnection).optional(),
      prefix: z
        .string({ error: 'must be a string' })
        .regex(/^[A-Za-z0-9_.:-]+$/, { error: 'must be letters, digits and _ . : -' })
        .optional(),
      threads: z
        .number({ error: 'must be a whole number from 1 to 256' })
        .int({ error: 'must be a whole number from 1 to 256' })
        .min(1, { error: 'must be a whole number from 1 to 256' })
        .max(256, { error: 'must be a whole number from 1 to 256' })
        .optional(),
      targetDuration: durationMs.optional(),
      stuckAfter: durationMs.optional(),
      webhook: urlWith(['http', 'https']).optional(),
      consoleUrl: urlWith(['http', 'https']).optional(),
      lockDuration: durationMs.optional(),
      s3: section(
        z
          .object({
            endpoint: nonEmptyString.optional(),
            region: nonEmptyString.optional(),
            forcePathStyle: flag.optional(),
            accessKeyId: nonEmptyString.optional(),
            secretAccessKey: nonEmptyString.optional(),
          })
          .strict(),
      ).optional(),
    })
    .strict(),
);

export type BatchSectionInput = z.input<typeof batchSection>;
export type BatchSection = z.output<typeof batchSection>;

export function batchConfigFromSection(c: BatchSection = {}): BatchConfig {
  return {
    mode: c.mode ?? 'embedded',
    redisUrl: c.redis?.url ?? DEFAULT_REDIS_URL,
    prefix: c.prefix ?? 'larder',
    threads: c.threads ?? Math.max(1, os.availableParallelism()),
    targetSeconds: (c.targetDuration ?? 120_000) / 1000,
    stuckAfterMs: c.stuckAfter ?? 600_000,
    webhook: c.webhook,
    consoleUrl: (c.consoleUrl ?? 'http://127.0.0.1:4000').replace(/\/+$/, ''),
    lockDurationMs: c.lockDuration ?? 30_000,
    s3: c.s3 ?? {},
  };
}

/**
 * A batch config from a `batch:` section written in code (tests, benchmarks): validated, defaults
 * applied. Commands get theirs from the config file, through `loadConfig`.
 */
export function batchConfigFrom(input: BatchSectionInput = {}): BatchConfig {
  const parsed = batchSection.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LarderError(
      'LARDER_ERR_CONFIG',
      `batch.${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is invalid'}`,
      { details: { issues: parsed.error.issues } },
    );
  }
  return batchConfigFromSection(parsed.data);
}
