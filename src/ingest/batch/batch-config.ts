import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { parse } from 'yaml';
import { z } from 'zod';
import { LarderError } from '../../errors.ts';
import { parseDuration } from '../../registry/duration.ts';

/**
 * The `batch:` section of the deployment config (`--config <file>`, YAML or JSON):
 *
 * ```yaml
 * batch:
 *   mode: embedded            # embedded (thread pool, jobs in LMDB) | distributed (BullMQ + Redis)
 *   redis: redis://127.0.0.1:6379   # distributed: queue and job store (or LARDER_REDIS_URL)
 *   prefix: larder            # distributed: Redis key prefix of the queue and the job store
 *   workers: 2                # embedded: pool threads (default: CPU count)
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
  readonly workers: number;
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

const duration = z.string().refine((text) => parseDuration(text) !== undefined, {
  message: 'must be a duration like 30s, 10m or 1h',
});

const BatchSection = z
  .object({
    mode: z.enum(['embedded', 'distributed']).optional(),
    redis: z.string().optional(),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/)
      .optional(),
    workers: z.number().int().min(1).max(256).optional(),
    targetDuration: duration.optional(),
    stuckAfter: duration.optional(),
    webhook: z.url().optional(),
    consoleUrl: z.url().optional(),
    lockDuration: duration.optional(),
    s3: z
      .object({
        endpoint: z.string().optional(),
        region: z.string().optional(),
        forcePathStyle: z.boolean().optional(),
        accessKeyId: z.string().optional(),
        secretAccessKey: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type BatchConfigInput = z.input<typeof BatchSection>;

/** Defaults applied to a (possibly empty) `batch:` section. */
export function batchConfigFrom(input: BatchConfigInput = {}, env = process.env): BatchConfig {
  const parsed = BatchSection.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LarderError(
      'LARDER_ERR_CONFIG',
      `batch.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      { details: { issues: parsed.error.issues } },
    );
  }
  const c = parsed.data;
  const ms = (text: string | undefined, fallback: number): number =>
    text === undefined ? fallback : (parseDuration(text) ?? fallback);
  return {
    mode: c.mode ?? 'embedded',
    redisUrl: c.redis ?? env.LARDER_REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: c.prefix ?? 'larder',
    workers: c.workers ?? Math.max(1, os.availableParallelism()),
    targetSeconds: ms(c.targetDuration, 120_000) / 1000,
    stuckAfterMs: ms(c.stuckAfter, 600_000),
    webhook: c.webhook ?? env.LARDER_BATCH_WEBHOOK,
    consoleUrl: (c.consoleUrl ?? env.LARDER_CONSOLE_URL ?? 'http://127.0.0.1:4000').replace(/\/+$/, ''),
    lockDurationMs: ms(c.lockDuration, 30_000),
    s3: c.s3 ?? {},
  };
}

/** Reads `batch:` from a config file; defaults when there is no file or no section. */
export async function loadBatchConfig(
  file: string | undefined,
  overrides: BatchConfigInput = {},
): Promise<BatchConfig> {
  if (file === undefined) return batchConfigFrom(overrides);
  let doc: unknown;
  try {
    doc = parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new LarderError('LARDER_ERR_CONFIG', `cannot read the config file ${file}: ${String(err)}`, {
      cause: err,
    });
  }
  const section =
    typeof doc === 'object' && doc !== null && 'batch' in doc ? (doc as { batch: unknown }).batch : undefined;
  if (section !== undefined && (typeof section !== 'object' || section === null || Array.isArray(section))) {
    throw new LarderError('LARDER_ERR_CONFIG', `${file}: "batch" must be a map`);
  }
  return batchConfigFrom({ ...((section as BatchConfigInput | undefined) ?? {}), ...overrides });
}
