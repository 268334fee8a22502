import path from 'node:path';
import type { Logger } from 'pino';
import { loadRegistry } from '../../registry/load.ts';
import { RegistryHolder } from '../../registry/registry-holder.ts';
import { openLmdbEnv, type LmdbEnv } from '../../store/lmdb/lmdb-env.ts';
import type { BatchConfig } from '../../config/batch-section.ts';
import type { StoreConfig } from '../../config/store-section.ts';
import { BatchRuntime, type BatchRuntimeOptions } from './batch-runtime.ts';
import type { JobStore } from './jobs/job-store.ts';
import { JobTracker } from './jobs/job-tracker.ts';
import { LmdbJobStore } from './jobs/lmdb-job-store.ts';
import { EmbeddedRunner } from './runners/embedded-runner.ts';
import type { JobRunner } from './runners/job-runner.ts';
import { ThreadPool } from './runners/thread-pool.ts';
import { Watchdog } from './watchdog.ts';

export interface OpenBatchOptions {
  readonly config: BatchConfig;
  /** The registry in force; or give `registryDir` to load it. */
  readonly registry?: RegistryHolder;
  readonly registryDir?: string;
  /** The embedded data directory: LMDB store (and job store, in embedded mode). */
  readonly dataDir: string;
  /** Embedded mode: the store the pool's tasks write to (the config's `store:`). Default: LMDB in `dataDir`. */
  readonly store?: StoreConfig;
  /** An environment already open on `dataDir` (the server's); otherwise one is opened and closed here. */
  readonly env?: LmdbEnv;
  readonly logger?: Logger;
  /**
   * Called after this process's task threads wrote to the store (at most once per progress
   * interval, and when a task ends): what serves from the same process forgets what it holds.
   */
  readonly onTaskWrites?: () => void;
  /** Write without fsync (benchmarks only). */
  readonly sync?: boolean;
  readonly taskSplit?: BatchRuntimeOptions['taskSplit'];
  readonly batchRows?: number;
  /** The clock of job state and of the watchdog's stuck and timeout checks. Default `Date.now`. */
  readonly now?: () => number;
}

export interface OpenedBatch {
  readonly runtime: BatchRuntime;
  readonly watchdog: Watchdog;
  close(): Promise<void>;
}

/**
 * Assembles the batch runtime for the configured mode:
 * - embedded: jobs in the LMDB environment of `dataDir`, tasks on a pool of `threads` threads
 *   that write to the configured store (by default LMDB in the same environment);
 * - distributed: jobs in Redis, tasks on a BullMQ queue served by `larder worker` processes.
 */
export async function openBatch(options: OpenBatchOptions): Promise<OpenedBatch> {
  const { config, logger } = options;
  const dataDir = path.resolve(options.dataDir);
  const registry =
    options.registry ?? new RegistryHolder(await loadRegistry(path.resolve(options.registryDir ?? '.')));
  let ownEnv: LmdbEnv | undefined;
  let jobs: JobStore;
  let pool: ThreadPool | undefined;
  if (config.mode === 'distributed') {
    // Loaded only in distributed mode: BullMQ and ioredis cost most of a second to import.
    const { RedisJobStore } = await import('./jobs/redis-job-store.ts');
    jobs = new RedisJobStore({ url: config.redisUrl, prefix: `${config.prefix}:batch:` });
  } else {
    const env = options.env ?? (ownEnv = openLmdbEnv(dataDir, options.sync === false ? { sync: false } : {}));
    jobs = new LmdbJobStore(env);
    pool = new ThreadPool({
      size: config.threads,
      dataDir,
      ...(options.store === undefined ? {} : { store: options.store }),
      s3: config.s3,
      sync: options.sync !== false,
      ...(options.batchRows === undefined ? {} : { batchRows: options.batchRows }),
    });
  }
  const now = options.now ?? Date.now;
  const tracker = new JobTracker(jobs, now);
  const runner: JobRunner =
    pool === undefined
      ? new (await import('./runners/distributed-runner.ts')).DistributedRunner({
          config,
          ...(logger === undefined ? {} : { logger }),
        })
      : new EmbeddedRunner({
          tracker,
          pool,
          ...(logger === undefined ? {} : { logger }),
          ...(options.onTaskWrites === undefined ? {} : { onTaskWrites: options.onTaskWrites }),
        });
  const watchdog = new Watchdog({ tracker, config, now, ...(logger === undefined ? {} : { logger }) });
  const runtime = new BatchRuntime({
    registry,
    jobs,
    runner,
    config,
    tracker,
    watchdog,
    ...(logger === undefined ? {} : { logger }),
    ...(options.taskSplit === undefined ? {} : { taskSplit: options.taskSplit }),
  });
  return {
    runtime,
    watchdog,
    async close() {
      watchdog.stop();
      await runtime.close();
      await ownEnv?.close();
    },
  };
}
