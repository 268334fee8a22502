import type { Logger } from 'pino';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { LmdbEnv } from '../../store/lmdb/lmdb-env.ts';
import type { BatchConfig } from '../../config/batch-section.ts';
import type { StoreConfig } from '../../config/store-section.ts';
import { openBatch, type OpenedBatch } from './open-batch.ts';
import { BatchScheduler } from './scheduler.ts';

export interface BatchServices extends OpenedBatch {
  readonly scheduler: BatchScheduler;
}

/**
 * The batch side of a long-running Larder process (`larder scheduler`, and `larder serve` in
 * embedded mode): the runtime, the cron loop following the registry, and the watchdog (stuck
 * alerts, timeouts, failure webhooks). In embedded mode, pass the server's open LMDB `env`.
 */
export async function startBatchServices(options: {
  readonly config: BatchConfig;
  readonly registry: RegistryHolder;
  readonly dataDir: string;
  /** Embedded mode: the store tasks write to. Default: LMDB in `dataDir`. */
  readonly store?: StoreConfig;
  readonly env?: LmdbEnv;
  readonly logger?: Logger;
  /** See `openBatch`: called after the task threads wrote to the store. */
  readonly onTaskWrites?: () => void;
  /** How often the watchdog scans (default 15 s). */
  readonly watchdogMs?: number;
}): Promise<BatchServices> {
  const batch = await openBatch({
    config: options.config,
    registry: options.registry,
    dataDir: options.dataDir,
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.onTaskWrites === undefined ? {} : { onTaskWrites: options.onTaskWrites }),
  });
  const scheduler = new BatchScheduler({
    runtime: batch.runtime,
    registry: options.registry,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  await scheduler.start();
  batch.watchdog.start(options.watchdogMs ?? 15_000);
  return {
    ...batch,
    scheduler,
    async close() {
      await scheduler.stop();
      await batch.close();
    },
  };
}
