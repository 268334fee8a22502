import os from 'node:os';
import type { Logger } from 'pino';
import { isLarderError } from '../../../errors.ts';
import { backoffMs } from '../../backoff.ts';
import type { JobTracker } from '../jobs/job-tracker.ts';
import { isTerminal, type JobRecord } from '../jobs/job-types.ts';
import type { TaskOutput } from '../task-runner.ts';
import type { JobRunner } from './job-runner.ts';
import type { ThreadPool } from './thread-pool.ts';

export interface EmbeddedRunnerOptions {
  readonly tracker: JobTracker;
  readonly pool: ThreadPool;
  readonly logger?: Logger;
  /** How often running jobs are checked for cancellation and timeout. Default 500 ms. */
  readonly watchMs?: number;
  /** Minimum time between two progress writes of one task. Default 500 ms. */
  readonly progressMs?: number;
  /** Called after a task's threads wrote rows: with each progress write, and when the task ends. */
  readonly onTaskWrites?: () => void;
}

/**
 * Runs jobs on the in-process thread pool. Each dispatched job gets at most its split's
 * `parallelism` tasks on the pool at once; a failed attempt is retried (up to `retries`) after the others of the
 * round, and a task out of retries fails the job. While a job runs, its record is watched, so a
 * cancel from another process, the job's timeout, or a failure decided elsewhere (error rate)
 * stops its tasks at their next batch.
 */
export class EmbeddedRunner implements JobRunner {
  readonly mode = 'embedded' as const;
  readonly #running = new Set<Promise<void>>();
  readonly #worker = `thread@${os.hostname()}:${process.pid}`;

  readonly #options: EmbeddedRunnerOptions;
  constructor(options: EmbeddedRunnerOptions) {
    this.#options = options;
  }

  async workersAvailable(): Promise<number> {
    return this.#options.pool.size;
  }

  async dispatch(job: JobRecord, taskIndexes: readonly number[]): Promise<void> {
    const run = this.#execute(job, [...taskIndexes]).catch((err: unknown) => {
      this.#options.logger?.error({ err, job: job.id }, 'batch: embedded job execution failed');
      return this.#options.tracker
        .fail(job.id, 'LARDER_ERR_INTERNAL', `runner error: ${String(err)}`)
        .then(() => undefined);
    });
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }

  /** Resolves once every dispatched job has stopped. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  async close(): Promise<void> {
    await this.#options.pool.close();
    await this.idle();
  }

  async #execute(job: JobRecord, indexes: number[]): Promise<void> {
    const { tracker, pool } = this.#options;
    const store = tracker.store;
    const maxAttempts = job.spec.ingestion.retries + 1;
    const parallelism = Math.max(1, Math.min(job.plan?.parallelism ?? 1, pool.size));
    const active = new Map<number, number>(); // task index -> pool run id
    let stopped: string | undefined;

    const watcher = setInterval(() => {
      void (async () => {
        const current = await store.getJob(job.id);
        if (current === undefined) return;
        const startedAt = current.startedAt ?? current.runnableAt ?? current.createdAt;
        if (!isTerminal(current.state) && Date.now() - startedAt > job.spec.ingestion.timeoutMs) {
          await tracker.fail(
            job.id,
            'LARDER_ERR_BATCH_TIMEOUT',
            `the job ran longer than its timeout of ${Math.round(job.spec.ingestion.timeoutMs / 1000)} s`,
          );
          return;
        }
        if (isTerminal(current.state) && stopped === undefined) {
          stopped = `job ${current.state}`;
          for (const id of active.values()) pool.abort(id, `the job was ${current.state}`);
        }
      })().catch(() => undefined);
    }, this.#options.watchMs ?? 500);

    const runOne = async (index: number): Promise<void> => {
      for (;;) {
        if (stopped !== undefined) return;
        const task = await store.getTask(job.id, index);
        if (task === undefined || task.state === 'succeeded') return;
        if (!(await tracker.taskStarted(job.id, index, this.#worker))) return;
        const throttle = progressThrottle(this.#options.progressMs ?? 500, async (output) => {
          this.#options.onTaskWrites?.();
          await tracker.taskProgress(job.id, index, output);
          if (await tracker.checkErrorRate(job.id)) stopped = 'error rate';
        });
        const current = await store.getJob(job.id);
        if (current === undefined) return;
        const { id, result } = pool.run(
          { jobId: job.id, index, slice: task.slice, spec: current.spec },
          throttle.push,
        );
        active.set(index, id);
        try {
          const output = await result;
          await throttle.drain();
          await tracker.taskSucceeded(job.id, index, output);
          return;
        } catch (err) {
          await throttle.drain();
          if (stopped !== undefined) {
            await tracker.taskStopped(job.id, index, throttle.latest());
            return;
          }
          const code = isLarderError(err) ? err.code : 'LARDER_ERR_INTERNAL';
          const message = err instanceof Error ? err.message : String(err);
          const final = task.attempts + 1 >= maxAttempts;
          await tracker.taskFailed(job.id, index, { code, message }, final);
          if (final) {
            stopped = 'task failed';
            for (const other of active.values()) pool.abort(other, 'another task of the job failed');
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, backoffMs(task.attempts, 250)));
        } finally {
          active.delete(index);
          this.#options.onTaskWrites?.();
        }
      }
    };

    try {
      const queue = [...indexes];
      await Promise.all(
        Array.from({ length: Math.min(parallelism, queue.length) }, async () => {
          for (let index = queue.shift(); index !== undefined; index = queue.shift()) await runOne(index);
        }),
      );
    } finally {
      clearInterval(watcher);
    }
  }
}

/** Coalesces progress reports: at most one store write per interval, the latest always kept. */
function progressThrottle(
  intervalMs: number,
  flush: (output: TaskOutput) => Promise<void>,
): { push: (output: TaskOutput) => void; drain: () => Promise<void>; latest: () => TaskOutput | undefined } {
  let latest: TaskOutput | undefined;
  let seen: TaskOutput | undefined;
  let lastAt = 0;
  let chain: Promise<void> = Promise.resolve();
  const write = (): void => {
    const output = latest;
    latest = undefined;
    if (output === undefined) return;
    lastAt = Date.now();
    chain = chain.then(() => flush(output)).catch(() => undefined);
  };
  return {
    push(output) {
      latest = output;
      seen = output;
      if (Date.now() - lastAt >= intervalMs) write();
    },
    async drain() {
      latest = undefined;
      await chain;
    },
    latest: () => seen,
  };
}
