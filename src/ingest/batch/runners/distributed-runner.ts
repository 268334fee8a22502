import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BatchConfig } from '../../../config/batch-section.ts';
import type { JobRecord } from '../jobs/job-types.ts';
import { BATCH_QUEUE, bullConnection, bullPrefix, type QueuedTask } from './batch-queue.ts';
import type { JobRunner } from './job-runner.ts';

export interface DistributedRunnerOptions {
  readonly config: BatchConfig;
  readonly logger?: Logger;
}

/**
 * Puts tasks on the BullMQ queue in Redis, where `larder worker` processes on any machine take
 * them. BullMQ holds each task under a lock that its worker renews; a worker that dies (even
 * SIGKILL) stops renewing, and once the lock expires the task goes back to the queue for another
 * worker. Failed attempts are retried with exponential backoff up to the ingestion's `retries`.
 */
export class DistributedRunner implements JobRunner {
  readonly mode = 'distributed' as const;
  readonly #connection: Redis;
  readonly #queue: Queue<QueuedTask>;

  readonly #options: DistributedRunnerOptions;
  constructor(options: DistributedRunnerOptions) {
    this.#options = options;
    this.#connection = bullConnection(options.config);
    this.#queue = new Queue<QueuedTask>(BATCH_QUEUE, {
      connection: this.#connection,
      prefix: bullPrefix(options.config),
    });
  }

  /** The `larder worker` processes connected right now (at least 1, so a job is still split into tasks). */
  async workersAvailable(): Promise<number> {
    return Math.max(1, await this.#queue.getWorkersCount());
  }

  async dispatch(job: JobRecord, taskIndexes: readonly number[]): Promise<void> {
    const attempts = job.spec.ingestion.retries + 1;
    await this.#queue.addBulk(
      taskIndexes.map((index) => ({
        name: job.ingestion,
        data: { jobId: job.id, index, attempt: job.attempt },
        opts: {
          jobId: `${job.id}_${index}_${job.attempt}`,
          attempts,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: 1000 },
        },
      })),
    );
    this.#options.logger?.info({ job: job.id, tasks: taskIndexes.length }, 'batch: tasks queued');
  }

  async close(): Promise<void> {
    await this.#queue.close();
    this.#connection.disconnect();
  }
}
