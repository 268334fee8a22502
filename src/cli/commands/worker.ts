import type { Command } from 'commander';
import { JobTracker } from '../../ingest/batch/jobs/job-tracker.ts';
import { RedisJobStore } from '../../ingest/batch/jobs/redis-job-store.ts';
import { startQueueWorker } from '../../ingest/batch/runners/queue-worker.ts';
import { ObjectSources } from '../../ingest/batch/sources/object-sources.ts';
import { storeFromConfig } from '../../store/store-from-config.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { createLogger } from '../logger.ts';
import { parsePositiveInt, parseRedisUrl } from '../options.ts';

interface WorkerOptions {
  readonly data: string;
  readonly config?: string;
  readonly concurrency: number;
  readonly redis?: string;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description(
      'Run batch tasks from the distributed queue (BullMQ on Redis). Start any number, on any machine; ' +
        'a task whose worker dies is retried on another.',
    )
    .option('--data <dir>', 'data directory of the store the tasks write to', './data')
    .option(
      '--config <file>',
      'config file: its store: and batch: sections (redis, prefix, lockDuration, s3)',
    )
    .option('--redis <url>', 'Redis URL of the queue and the job store (overrides the config)', parseRedisUrl)
    .option('--concurrency <n>', 'tasks this process runs at once', parsePositiveInt, 1)
    .action(async (options: WorkerOptions) => {
      const logger = createLogger();
      const file = readConfig(options.config);
      // A worker always serves the distributed queue, whatever mode the file names.
      const config = {
        ...file.batch,
        mode: 'distributed' as const,
        ...(options.redis === undefined ? {} : { redisUrl: options.redis }),
      };
      // The store the config names: workers on many machines write to DynamoDB; LMDB only on one box.
      const store = storeFromConfig(file.store, { dataDir: options.data });
      await store.open();
      const jobs = new RedisJobStore({ url: config.redisUrl, prefix: `${config.prefix}:batch:` });
      const worker = startQueueWorker({
        config,
        tracker: new JobTracker(jobs),
        store,
        sources: new ObjectSources(config.s3),
        logger,
        concurrency: options.concurrency,
      });
      await worker.worker.waitUntilReady();
      logger.info(
        { pid: process.pid, prefix: config.prefix, concurrency: options.concurrency },
        'batch worker ready',
      );
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await worker.close();
      await jobs.close();
      await store.close();
    });
}
