import os from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { isLarderError } from '../../../errors.ts';
import type { OnlineStore } from '../../../store/online-store.ts';
import type { BatchConfig } from '../../../config/batch-section.ts';
import type { JobTracker } from '../jobs/job-tracker.ts';
import { isTerminal } from '../jobs/job-types.ts';
import type { ObjectSources } from '../sources/object-sources.ts';
import { runTask, type TaskOutput } from '../task-runner.ts';
import { BATCH_QUEUE, bullConnection, bullPrefix, type QueuedTask } from './batch-queue.ts';

export interface QueueWorkerOptions {
  readonly config: BatchConfig;
  readonly tracker: JobTracker;
  readonly store: OnlineStore;
  readonly sources: ObjectSources;
  readonly logger?: Logger;
  /** Tasks this process runs at once. Default 1. */
  readonly concurrency?: number;
  readonly name?: string;
}

/**
 * A `larder worker`: takes tasks off the BullMQ queue and runs them against the store, reporting
 * through the job store. A task of a job that is already finished (cancelled, failed elsewhere)
 * is skipped; a running task stops at its next batch when its job finishes.
 */
export function startQueueWorker(options: QueueWorkerOptions): {
  worker: Worker<QueuedTask>;
  close(): Promise<void>;
} {
  const { config, tracker, logger } = options;
  const name = options.name ?? `worker@${os.hostname()}:${process.pid}`;
  const connection = bullConnection(config);

  const processor = async (queued: Job<QueuedTask>): Promise<string> => {
    const { jobId, index } = queued.data;
    const record = await tracker.store.getJob(jobId);
    if (record === undefined || isTerminal(record.state) || record.attempt !== queued.data.attempt)
      return 'skipped';
    if (!(await tracker.taskStarted(jobId, index, name))) return 'skipped';
    const task = await tracker.store.getTask(jobId, index);
    if (task === undefined) return 'skipped';

    const controller = new AbortController();
    const watch = setInterval(() => {
      void tracker.store.getJob(jobId).then(
        (job) => {
          if (job !== undefined && isTerminal(job.state))
            controller.abort(new Error(`the job was ${job.state}`));
        },
        () => undefined,
      );
    }, 500);
    let lastFlush = 0;
    let flushing: Promise<void> = Promise.resolve();
    let seen: TaskOutput | undefined;
    const onProgress = (output: TaskOutput): void => {
      seen = output;
      if (Date.now() - lastFlush < 500) return;
      lastFlush = Date.now();
      flushing = flushing
        .then(async () => {
          await tracker.taskProgress(jobId, index, output);
          await tracker.checkErrorRate(jobId);
        })
        .catch(() => undefined);
    };
    try {
      const result = await runTask(
        { jobId, index, slice: task.slice, spec: record.spec },
        { store: options.store, sources: options.sources, signal: controller.signal, onProgress },
      );
      await flushing;
      await tracker.taskSucceeded(jobId, index, result);
      return 'done';
    } catch (err) {
      await flushing;
      if (controller.signal.aborted) {
        await tracker.taskStopped(jobId, index, seen);
        return 'stopped';
      }
      const code = isLarderError(err) ? err.code : 'LARDER_ERR_INTERNAL';
      const message = err instanceof Error ? err.message : String(err);
      const final = queued.attemptsMade + 1 >= (queued.opts.attempts ?? 1);
      await tracker.taskFailed(jobId, index, { code, message }, final);
      if (final) throw new UnrecoverableError(message);
      throw err;
    } finally {
      clearInterval(watch);
    }
  };

  const worker = new Worker<QueuedTask>(BATCH_QUEUE, processor, {
    connection,
    prefix: bullPrefix(config),
    concurrency: options.concurrency ?? 1,
    lockDuration: config.lockDurationMs,
    stalledInterval: Math.max(1000, Math.round(config.lockDurationMs / 2)),
    maxStalledCount: 3,
    name,
  });
  worker.on('failed', (job, err) => {
    // A task that stalled too often (its workers kept dying) never reaches the catch above.
    if (job !== undefined && err.message.includes('stalled')) {
      void tracker.taskFailed(
        job.data.jobId,
        job.data.index,
        { code: 'LARDER_ERR_BATCH_TASK_FAILED', message: err.message },
        true,
      );
    }
    logger?.warn({ task: job?.id, err: err.message }, 'batch: task attempt failed');
  });
  worker.on('error', (err) => logger?.error({ err }, 'batch: queue worker error'));
  return {
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
