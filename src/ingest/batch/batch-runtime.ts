import type { Logger } from 'pino';
import { isLarderError, LarderError } from '../../errors.ts';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { BatchConfig } from '../../config/batch-section.ts';
import { ingestionNamed } from './ingestion-def.ts';
import { toJobView, viewJob, type JobStore } from './jobs/job-store.ts';
import { cancelJob } from './jobs/cancel-job.ts';
import { JobTracker } from './jobs/job-tracker.ts';
import { isTerminal, type JobRecord, type JobSpec, type JobTrigger, type JobView } from './jobs/job-types.ts';
import { splitJob } from './task-split/split-job.ts';
import { estimateThroughput } from './task-split/throughput.ts';
import type { JobRunner } from './runners/job-runner.ts';
import { ObjectSources } from './sources/object-sources.ts';
import type { Watchdog } from './watchdog.ts';

export interface BatchRuntimeOptions {
  readonly registry: RegistryHolder;
  readonly jobs: JobStore;
  readonly runner: JobRunner;
  readonly config: BatchConfig;
  readonly sources?: ObjectSources;
  readonly logger?: Logger;
  /** Task split overrides (tests use small split sizes). */
  readonly taskSplit?: { readonly minSplitBytes?: number; readonly maxTaskBytes?: number };
  readonly watchdog?: Watchdog;
  /** Shares one tracker with the runner; one is made over `jobs` otherwise. */
  readonly tracker?: JobTracker;
}

export interface SubmitOptions {
  /** Only rows with `from <= ts < to` (epoch ms); needs the ingestion's timestampField. */
  readonly from?: number;
  readonly to?: number;
  readonly trigger?: JobTrigger;
  readonly runId?: string;
  /** Jobs of the same DAG run to wait for: the job stays queued, and `start` is called later. */
  readonly waitsFor?: readonly string[];
  /** A second submit with the same key returns the first job (a cron tick seen twice). */
  readonly dedupeKey?: string;
  /** Create the job queued and leave it there; `start` splits and runs it later (DAG runs). */
  readonly hold?: boolean;
}

/**
 * The batch side of Larder in one object: submit a backfill, split it into tasks, hand them to the
 * runner, wait for it, retry or cancel it, read it. The CLI, the scheduler and the server use
 * this; runners and workers report through the job store.
 */
export class BatchRuntime {
  readonly tracker: JobTracker;
  readonly sources: ObjectSources;

  readonly #options: BatchRuntimeOptions;
  constructor(options: BatchRuntimeOptions) {
    this.#options = options;
    this.tracker = options.tracker ?? new JobTracker(options.jobs);
    this.sources = options.sources ?? new ObjectSources(options.config.s3);
  }

  get jobs(): JobStore {
    return this.#options.jobs;
  }

  get runner(): JobRunner {
    return this.#options.runner;
  }

  get config(): BatchConfig {
    return this.#options.config;
  }

  /** The job spec of an ingestion from the registry in force. */
  async resolveSpec(name: string, from?: number, to?: number): Promise<JobSpec> {
    const registry = this.#options.registry.current;
    const ingestion = ingestionNamed(registry, name);
    const feature = registry.featuresByEntity.get(ingestion.entity)?.get(ingestion.feature);
    const entity = registry.entities.get(ingestion.entity);
    if (feature === undefined || entity === undefined) {
      throw new LarderError(
        'LARDER_ERR_SPEC_REFERENCE',
        `ingestion ${name} feeds ${ingestion.entity}.${ingestion.feature}, which the registry no longer declares`,
      );
    }
    if ((from !== undefined || to !== undefined) && ingestion.timestampField === undefined) {
      throw new LarderError(
        'LARDER_ERR_BAD_ARGUMENT',
        `--from/--to select rows by time, but ingestion ${name} names no timestampField`,
      );
    }
    if (from !== undefined && to !== undefined && from >= to) {
      throw new LarderError('LARDER_ERR_BAD_ARGUMENT', '--from must be before --to');
    }
    return { ingestion, feature, entity, from, to };
  }

  /** Creates a job; unless it waits for other jobs, splits and dispatches it at once. */
  async submit(name: string, options: SubmitOptions = {}): Promise<JobRecord> {
    const spec = await this.resolveSpec(name, options.from, options.to);
    const job = await this.tracker.create(
      {
        spec,
        trigger: options.trigger ?? 'backfill',
        mode: this.#options.runner.mode,
        ...(options.runId === undefined ? {} : { runId: options.runId }),
        ...(options.waitsFor === undefined ? {} : { waitsFor: options.waitsFor }),
      },
      options.dedupeKey,
    );
    if (job.state !== 'queued' || options.hold === true || (options.waitsFor?.length ?? 0) > 0) return job;
    return this.start(job.id);
  }

  /** Splits a queued job into tasks and hands them to the runner. A failed split fails the job. */
  async start(jobId: string): Promise<JobRecord> {
    const job = await this.#mustGet(jobId);
    if (job.state !== 'queued' || !(await this.tracker.claimSplitting(jobId))) return job;
    try {
      const { spec } = job;
      const objects = await this.sources.for(spec.ingestion.source.path).list(spec.ingestion.source.path);
      const { slices, split } = await splitJob(
        spec.ingestion,
        objects,
        this.sources,
        (sample) => estimateThroughput(this.jobs, spec, sample, this.sources),
        {
          workersAvailable: await this.#options.runner.workersAvailable(),
          targetSeconds: this.#options.config.targetSeconds,
          ...this.#options.taskSplit,
        },
      );
      const runnable = await this.tracker.recordSplit(jobId, split, slices);
      if (runnable === undefined || runnable.state !== 'runnable') return runnable ?? job;
      await this.#options.runner.dispatch(
        runnable,
        slices.map((_, i) => i),
      );
      return runnable;
    } catch (err) {
      if (!isLarderError(err)) this.#options.logger?.error({ err, job: jobId }, 'batch: planning failed');
      const code = isLarderError(err) ? err.code : 'LARDER_ERR_INTERNAL';
      const message = err instanceof Error ? err.message : String(err);
      return (await this.tracker.fail(jobId, code, `planning failed: ${message}`)) ?? job;
    }
  }

  /**
   * Runs a failed or cancelled job again (same id and URL), re-running its unfinished tasks; also
   * a running job whose process is gone (`larder backfill` killed).
   */
  async retry(jobId: string): Promise<JobRecord> {
    // A job left running by a killed process is failed first, so that it can be retried.
    await this.tracker.failIfOrphaned(await this.view(jobId));
    const job = await this.#mustGet(jobId);
    // Re-resolve the mapping: a retry usually follows a fix of the registry.
    const spec = await this.resolveSpec(job.ingestion, job.spec.from, job.spec.to).catch(() => job.spec);
    const rerun = await this.tracker.retry(jobId, spec);
    if (rerun === undefined) {
      throw new LarderError(
        'LARDER_ERR_BATCH_JOB_STATE',
        `job ${jobId} is ${job.state}; only failed or cancelled jobs can be retried`,
      );
    }
    const current = await this.#mustGet(jobId);
    if (current.state === 'queued') return this.start(jobId);
    if (rerun.length === 0) {
      await this.tracker.finalizeIfDone(jobId);
      return this.#mustGet(jobId);
    }
    await this.#options.runner.dispatch(current, rerun);
    return current;
  }

  async cancel(jobId: string, reason = 'cancelled by request'): Promise<JobRecord> {
    return cancelJob(this.tracker, jobId, reason);
  }

  async view(jobId: string): Promise<JobView> {
    const view = await viewJob(this.jobs, jobId);
    if (view === undefined) throw notFound(jobId);
    return view;
  }

  /**
   * Polls the job until it is finished; `onUpdate` sees every poll. The watchdog, when given,
   * also enforces the timeout and raises the stuck alert for this job while waiting.
   */
  async wait(
    jobId: string,
    options: { onUpdate?: (view: JobView) => void; pollMs?: number } = {},
  ): Promise<JobView> {
    for (;;) {
      const job = await this.#mustGet(jobId);
      const view = toJobView(job, await this.jobs.getTasks(jobId));
      options.onUpdate?.(view);
      if (isTerminal(view.state)) return view;
      await this.#options.watchdog?.checkJob(view);
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 300));
    }
  }

  async close(): Promise<void> {
    await this.#options.runner.close();
    await this.#options.jobs.close();
  }

  async #mustGet(jobId: string): Promise<JobRecord> {
    const job = await this.jobs.getJob(jobId);
    if (job === undefined) throw notFound(jobId);
    return job;
  }
}

function notFound(jobId: string): LarderError {
  return new LarderError('LARDER_ERR_BATCH_JOB_NOT_FOUND', `no job with id ${jobId}`, {
    details: { job: jobId },
  });
}
