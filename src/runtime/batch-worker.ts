import type { Logger } from 'pino';
import type { LarderConfig } from '../config/load-config.ts';
import { JobTracker } from '../ingest/batch/jobs/job-tracker.ts';
import { RedisJobStore } from '../ingest/batch/jobs/redis-job-store.ts';
import { startQueueWorker } from '../ingest/batch/runners/queue-worker.ts';
import { ObjectSources } from '../ingest/batch/sources/object-sources.ts';
import { storeFromConfig } from '../store/store-from-config.ts';

export interface BatchWorker {
  /** The queue prefix it serves. */
  readonly prefix: string;
  /** Finishes or gives back its tasks, then closes the queue, the job store and the store. */
  close(): Promise<void>;
}

/**
 * What `larder worker` runs: a consumer of the distributed batch queue (whatever mode the file
 * names), writing to the store of the config's `store:` section. Resolves once the queue
 * connection is ready.
 */
export async function startBatchWorker(options: {
  readonly config: LarderConfig;
  readonly dataDir: string;
  readonly logger: Logger;
  /** Tasks this process runs at once. */
  readonly concurrency: number;
  /** Overrides `batch.redis.url`. */
  readonly redisUrl?: string;
}): Promise<BatchWorker> {
  const config = {
    ...options.config.batch,
    mode: 'distributed' as const,
    ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
  };
  // Workers on many machines write to DynamoDB; LMDB only works for workers on one box.
  const store = storeFromConfig(options.config.store, { dataDir: options.dataDir });
  await store.open();
  const jobs = new RedisJobStore({ url: config.redisUrl, prefix: `${config.prefix}:batch:` });
  const worker = startQueueWorker({
    config,
    tracker: new JobTracker(jobs),
    store,
    sources: new ObjectSources(config.s3),
    logger: options.logger,
    concurrency: options.concurrency,
  });
  await worker.worker.waitUntilReady();
  return {
    prefix: config.prefix,
    async close() {
      await worker.close();
      await jobs.close();
      await store.close();
    },
  };
}
