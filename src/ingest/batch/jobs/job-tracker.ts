import { randomBytes } from 'node:crypto';
import type { ErrorCode } from '../../../errors.ts';
import { recordThroughput } from '../task-split/throughput.ts';
import type { TaskOutput } from '../task-runner.ts';
import { toJobView, type JobStore } from './job-store.ts';
import {
  type JobRecord,
  type JobSpec,
  type JobTrigger,
  type JobView,
  type TaskRecord,
  type TaskSlice,
  type TaskSplit,
  isTerminal,
  jobPath,
  ZERO_COUNTS,
} from './job-types.ts';
import { orphanReason } from './job-liveness.ts';
import { describeSlice, errorRateMessage } from './job-messages.ts';

/** Rows a job must have read before its error rate can fail it early (the final check is exact). */
const EARLY_ERROR_RATE_ROWS = 10_000;

/** A sortable, URL-safe job id: creation time in base 36, then randomness. */
export function newJobId(now = Date.now()): string {
  return `${now.toString(36).padStart(9, '0')}-${randomBytes(3).toString('hex')}`;
}

export interface NewJob {
  readonly spec: JobSpec;
  readonly trigger: JobTrigger;
  readonly mode: JobRecord['mode'];
  readonly runId?: string;
  readonly waitsFor?: readonly string[];
}

/**
 * Every state change of jobs and tasks goes through here, whichever process makes it (the
 * embedded runner, a queue worker, the CLI, the scheduler), so the rules live in one place:
 *
 * - a job only leaves a terminal state through `retry`;
 * - the first task to start moves the job from runnable to running;
 * - when the last task finishes, the job succeeds, or fails when a task failed for good or more
 *   rows were rejected than `maxErrorRate` allows;
 * - cancelling or failing a job is seen by its running tasks, which stop at their next batch.
 */
export class JobTracker {
  readonly #now: () => number;
  constructor(
    readonly store: JobStore,
    now: () => number = Date.now,
  ) {
    this.#now = now;
  }

  async create(input: NewJob, dedupeKey?: string): Promise<JobRecord> {
    const at = this.#now();
    const id = newJobId(at);
    const job: JobRecord = {
      id,
      ingestion: input.spec.ingestion.name,
      trigger: input.trigger,
      runId: input.runId,
      waitsFor: input.waitsFor ?? [],
      state: 'queued',
      attempt: 1,
      mode: input.mode,
      spec: input.spec,
      plan: undefined,
      failure: undefined,
      createdAt: at,
      updatedAt: at,
      runnableAt: undefined,
      startedAt: undefined,
      finishedAt: undefined,
      stuckAlertedAt: undefined,
      failureAlertedAt: undefined,
      url: jobPath(id),
    };
    const stored = await this.store.createJob(job, [], dedupeKey);
    if (stored.id === id)
      await this.log(id, 'info', `job created (${input.trigger}) for ingestion ${job.ingestion}`);
    return stored;
  }

  /**
   * Claims the task split of a queued job; true for exactly one caller (a claim older than
   * `staleMs`, from a process that died while splitting, can be taken over).
   */
  async claimSplitting(jobId: string, staleMs = 600_000): Promise<boolean> {
    const at = this.#now();
    let claimed = false;
    await this.store.updateJob(jobId, (current) => {
      if (current.state !== 'queued') return undefined;
      if (current.planningAt !== undefined && at - current.planningAt < staleMs) return undefined;
      claimed = true;
      return { ...current, planningAt: at, updatedAt: at };
    });
    return claimed;
  }

  /** Stores the task split and the tasks, and makes the job runnable. */
  async recordSplit(
    jobId: string,
    split: TaskSplit,
    slices: readonly TaskSlice[],
  ): Promise<JobRecord | undefined> {
    const at = this.#now();
    const tasks: TaskRecord[] = slices.map((slice, index) => ({
      jobId,
      index,
      slice,
      state: 'pending',
      attempts: 0,
      counts: ZERO_COUNTS,
      errorSamples: [],
      updatedAt: at,
    }));
    await this.store.putTasks(jobId, tasks);
    const job = await this.store.updateJob(jobId, (current) =>
      current.state !== 'queued'
        ? undefined
        : { ...current, state: 'runnable', plan: split, runnableAt: at, updatedAt: at },
    );
    await this.log(jobId, 'info', `planned: ${split.explanation}`);
    return job;
  }

  /** A worker picked a task up. Returns false when the job is finished (the task must not run). */
  async taskStarted(jobId: string, index: number, worker: string): Promise<boolean> {
    const at = this.#now();
    const job = await this.store.updateJob(jobId, (current) =>
      current.state === 'runnable'
        ? { ...current, state: 'running', startedAt: current.startedAt ?? at, updatedAt: at }
        : undefined,
    );
    if (job === undefined || isTerminal(job.state)) return false;
    const task = await this.store.getTask(jobId, index);
    if (task === undefined || task.state === 'succeeded') return false;
    await this.store.putTask({
      ...task,
      state: 'running',
      attempts: task.attempts + 1,
      counts: ZERO_COUNTS,
      errorSamples: [],
      worker,
      error: undefined,
      startedAt: at,
      finishedAt: undefined,
      updatedAt: at,
    });
    await this.log(jobId, 'info', `task ${index} started on ${worker} (attempt ${task.attempts + 1})`);
    return true;
  }

  async taskProgress(jobId: string, index: number, output: TaskOutput): Promise<void> {
    const task = await this.store.getTask(jobId, index);
    if (task === undefined || task.state !== 'running') return;
    await this.store.putTask({
      ...task,
      counts: output.counts,
      errorSamples: output.errorSamples,
      updatedAt: this.#now(),
    });
  }

  /** Records a finished task; finalizes the job when it was the last. Returns the job view. */
  async taskSucceeded(
    jobId: string,
    index: number,
    output: TaskOutput & { busyMs: number },
  ): Promise<JobView | undefined> {
    const task = await this.store.getTask(jobId, index);
    if (task === undefined) return undefined;
    const at = this.#now();
    await this.store.putTask({
      ...task,
      state: 'succeeded',
      counts: output.counts,
      errorSamples: output.errorSamples,
      error: undefined,
      finishedAt: at,
      updatedAt: at,
      busyMs: output.busyMs,
    });
    await this.log(
      jobId,
      'info',
      `task ${index} succeeded: ${output.counts.rowsRead} rows, ${output.counts.written} written, ${output.counts.rejected} rejected in ${output.busyMs} ms`,
    );
    return this.finalizeIfDone(jobId);
  }

  /**
   * Records a failed attempt. With `final`, the task is out of retries and the job fails;
   * otherwise the task goes back to pending for its next attempt.
   */
  async taskFailed(
    jobId: string,
    index: number,
    error: { code: string; message: string },
    final: boolean,
  ): Promise<void> {
    const task = await this.store.getTask(jobId, index);
    if (task === undefined) return;
    const at = this.#now();
    await this.store.putTask({
      ...task,
      state: final ? 'failed' : 'pending',
      error,
      finishedAt: at,
      updatedAt: at,
    });
    await this.log(
      jobId,
      final ? 'error' : 'warn',
      `task ${index} attempt ${task.attempts} failed: ${error.code} ${error.message}${final ? ' (out of retries)' : ' (will retry)'}`,
    );
    if (final) {
      await this.fail(
        jobId,
        'LARDER_ERR_BATCH_TASK_FAILED',
        `task ${index} (${describeSlice(task.slice)}) failed on all ${task.attempts} attempts: ${error.message}`,
      );
    }
  }

  /** A running task was stopped because its job finished (cancelled, failed elsewhere, timed out). */
  async taskStopped(jobId: string, index: number, output?: TaskOutput): Promise<void> {
    const task = await this.store.getTask(jobId, index);
    if (task === undefined || task.state !== 'running') return;
    const at = this.#now();
    await this.store.putTask({
      ...task,
      state: 'cancelled',
      ...(output === undefined ? {} : { counts: output.counts, errorSamples: output.errorSamples }),
      finishedAt: at,
      updatedAt: at,
    });
  }

  /** Fails the job now when enough rows were read and too many were rejected. */
  async checkErrorRate(jobId: string): Promise<boolean> {
    const job = await this.store.getJob(jobId);
    if (job === undefined || isTerminal(job.state)) return false;
    const view = toJobView(job, await this.store.getTasks(jobId));
    if (view.progress.rowsRead < EARLY_ERROR_RATE_ROWS) return false;
    const message = errorRateMessage(view);
    if (message === undefined) return false;
    await this.fail(jobId, 'LARDER_ERR_BATCH_ERROR_RATE', message);
    return true;
  }

  /**
   * Fails a running embedded job whose process is gone (see `job-liveness.ts`), with its running
   * tasks, so that `larder jobs retry` can run what is unfinished. True when it did.
   */
  async failIfOrphaned(view: JobView): Promise<boolean> {
    const tasks = await this.store.getTasks(view.id);
    const reason = orphanReason(view, tasks, this.#now());
    if (reason === undefined) return false;
    const at = this.#now();
    const error = { code: 'LARDER_ERR_BATCH_WORKER_LOST', message: reason };
    for (const task of tasks) {
      if (task.state === 'running')
        await this.store.putTask({ ...task, state: 'failed', error, finishedAt: at, updatedAt: at });
    }
    const failed = await this.fail(
      view.id,
      'LARDER_ERR_BATCH_WORKER_LOST',
      `${reason} (killed?); \`larder jobs retry ${view.id}\` runs its unfinished tasks`,
    );
    return failed?.state === 'failed';
  }

  /** Moves a non-terminal job to failed. */
  async fail(jobId: string, code: ErrorCode, message: string): Promise<JobRecord | undefined> {
    return this.#finish(jobId, 'failed', { code, message });
  }

  async cancel(jobId: string, reason = 'cancelled by request'): Promise<JobRecord | undefined> {
    return this.#finish(jobId, 'cancelled', { code: 'LARDER_ERR_BATCH_CANCELLED', message: reason });
  }

  /**
   * Makes a failed or cancelled job runnable again with `attempt + 1`; its unfinished tasks go back
   * to pending (all of them when the job failed on its error rate). Returns the indexes of the tasks to run, or undefined when the job cannot be retried.
   */
  async retry(jobId: string, spec?: JobSpec): Promise<number[] | undefined> {
    const at = this.#now();
    let allowed = false;
    let all = false;
    await this.store.updateJob(jobId, (current) => {
      if (current.state !== 'failed' && current.state !== 'cancelled') return undefined;
      allowed = true;
      // Too many bad rows is decided over the whole job: after a fix, every task runs again.
      all = current.failure?.code === 'LARDER_ERR_BATCH_ERROR_RATE';
      return {
        ...current,
        state: current.plan === undefined ? 'queued' : 'runnable',
        attempt: current.attempt + 1,
        spec: spec ?? current.spec,
        failure: undefined,
        finishedAt: undefined,
        stuckAlertedAt: undefined,
        planningAt: undefined,
        runnableAt: at,
        updatedAt: at,
      };
    });
    if (!allowed) return undefined;
    const tasks = await this.store.getTasks(jobId);
    const rerun: number[] = [];
    for (const task of tasks) {
      if (task.state === 'succeeded' && !all) continue;
      rerun.push(task.index);
      await this.store.putTask({
        ...task,
        state: 'pending',
        counts: ZERO_COUNTS,
        errorSamples: [],
        error: undefined,
        updatedAt: at,
      });
    }
    const job = await this.store.getJob(jobId);
    await this.log(
      jobId,
      'info',
      `retry: attempt ${job?.attempt ?? '?'}, re-running ${rerun.length} unfinished task(s)`,
    );
    return rerun;
  }

  async markStuckAlerted(jobId: string): Promise<void> {
    const at = this.#now();
    await this.store.updateJob(jobId, (current) => ({ ...current, stuckAlertedAt: at }));
  }

  /** Claims the failure alert of a job; true for exactly one caller. */
  async claimFailureAlert(jobId: string): Promise<boolean> {
    const at = this.#now();
    let claimed = false;
    await this.store.updateJob(jobId, (current) => {
      if (current.failureAlertedAt !== undefined && current.failureAlertedAt >= (current.finishedAt ?? 0))
        return undefined;
      claimed = true;
      return { ...current, failureAlertedAt: at };
    });
    return claimed;
  }

  async log(jobId: string, level: 'info' | 'warn' | 'error', message: string): Promise<void> {
    await this.store.appendLog(jobId, { at: this.#now(), level, message });
  }

  /** When every task has succeeded, decides the job's outcome. */
  async finalizeIfDone(jobId: string): Promise<JobView | undefined> {
    const job = await this.store.getJob(jobId);
    if (job === undefined) return undefined;
    const tasks = await this.store.getTasks(jobId);
    const view = toJobView(job, tasks);
    if (isTerminal(job.state) || tasks.some((t) => t.state !== 'succeeded')) return view;
    const tooMany = errorRateMessage(view);
    const finished =
      tooMany === undefined
        ? await this.#finish(jobId, 'succeeded', undefined)
        : await this.#finish(jobId, 'failed', { code: 'LARDER_ERR_BATCH_ERROR_RATE', message: tooMany });
    if (finished?.state === 'succeeded') {
      const busy = tasks.reduce((n, t) => n + (t.busyMs ?? 0), 0);
      if (busy > 0)
        await recordThroughput(this.store, job.ingestion, view.progress.bytesTotal / (busy / 1000));
    }
    return finished === undefined ? view : toJobView(finished, tasks);
  }

  async #finish(
    jobId: string,
    state: 'succeeded' | 'failed' | 'cancelled',
    failure: { code: string; message: string } | undefined,
  ): Promise<JobRecord | undefined> {
    const at = this.#now();
    let changed = false;
    const job = await this.store.updateJob(jobId, (current) => {
      if (isTerminal(current.state)) return undefined;
      changed = true;
      return { ...current, state, failure, finishedAt: at, updatedAt: at };
    });
    if (changed && job !== undefined) {
      await this.log(
        jobId,
        state === 'succeeded' ? 'info' : 'error',
        failure === undefined ? `job ${state}` : `job ${state}: ${failure.code} ${failure.message}`,
      );
    }
    return job;
  }
}
