import type { Command } from 'commander';
import { startBatchWorker } from '../../runtime/batch-worker.ts';
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
      const worker = await startBatchWorker({
        config: readConfig(options.config),
        dataDir: options.data,
        logger,
        concurrency: options.concurrency,
        ...(options.redis === undefined ? {} : { redisUrl: options.redis }),
      });
      logger.info(
        { pid: process.pid, prefix: worker.prefix, concurrency: options.concurrency },
        'batch worker ready',
      );
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await worker.close();
    });
}
