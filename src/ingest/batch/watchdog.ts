import type { Logger } from 'pino';
import type { BatchConfig } from '../../config/batch-section.ts';
import { toJobView } from './jobs/job-store.ts';
import type { JobTracker } from './jobs/job-tracker.ts';
import { isTerminal, type JobView } from './jobs/job-types.ts';

/** What the webhook receives (JSON, POST). */
export interface JobAlert {
  readonly event: 'job.stuck' | 'job.failed';
  /** The job's stable console URL: `<consoleUrl>/jobs/<id>`. */
  readonly url: string;
  readonly message: string;
  readonly job: {
    readonly id: string;
    readonly ingestion: string;
    readonly state: string;
    readonly attempt: number;
    readonly mode: string;
    readonly createdAt: number;
    readonly startedAt: number | undefined;
    readonly lastProgressAt: number;
    readonly progress: JobView['progress'];
    readonly plan: string | undefined;
    readonly failure: JobView['failure'];
  };
}

export interface WatchdogOptions {
  readonly tracker: JobTracker;
  readonly config: Pick<BatchConfig, 'stuckAfterMs' | 'webhook' | 'consoleUrl'>;
  readonly logger?: Logger;
  readonly now?: () => number;
}

/**
 * Watches unfinished jobs:
 *
 * - **stuck**: a runnable or running job whose progress (job or any task) has not moved for
 *   `stuckAfter` is alerted once per stall: logged, written to the job's log, and POSTed to the
 *   webhook with the job's details and stable URL. A job runnable with no worker to take it is
 *   the classic case.
 * - **orphaned**: a running embedded job whose process is gone (killed, crashed) is failed, so
 *   that it can be retried (`job-liveness.ts`);
 * - **timeout**: a job running longer than its ingestion's `timeout` is failed.
 * - **failed**: a failed job is POSTed to the webhook once, with its URL.
 *
 * It runs in the scheduler and in the server, and for the one job a CLI waits on.
 */
export class Watchdog {
  #timer: NodeJS.Timeout | undefined;
  readonly #now: () => number;

  readonly #options: WatchdogOptions;
  constructor(options: WatchdogOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Checks every unfinished job, and failed jobs not yet alerted. */
  async scan(): Promise<void> {
    const { store } = this.#options.tracker;
    const jobs = await store.listJobs({ limit: 500, states: ['queued', 'runnable', 'running', 'failed'] });
    for (const job of jobs) {
      if (job.state === 'failed' && job.failureAlertedAt !== undefined) continue;
      await this.checkJob(toJobView(job, await store.getTasks(job.id)));
    }
  }

  async checkJob(view: JobView): Promise<void> {
    const { tracker, config } = this.#options;
    const now = this.#now();
    if (view.state === 'failed') {
      if (config.webhook !== undefined && (await tracker.claimFailureAlert(view.id))) {
        await this.#post(
          this.#alert(
            'job.failed',
            view,
            `job ${view.id} (${view.ingestion}) failed: ${view.failure?.message ?? ''}`,
          ),
        );
      }
      return;
    }
    if (isTerminal(view.state)) return;
    if (await tracker.failIfOrphaned(view)) return;
    if (
      view.state === 'running' &&
      view.startedAt !== undefined &&
      now - view.startedAt > view.spec.ingestion.timeoutMs
    ) {
      await tracker.fail(
        view.id,
        'LARDER_ERR_BATCH_TIMEOUT',
        `the job ran longer than its timeout of ${Math.round(view.spec.ingestion.timeoutMs / 1000)} s`,
      );
      return;
    }
    if (view.state !== 'runnable' && view.state !== 'running') return;
    const idleMs = now - view.progress.lastProgressAt;
    if (idleMs < config.stuckAfterMs) return;
    if (view.stuckAlertedAt !== undefined && view.stuckAlertedAt >= view.progress.lastProgressAt) return;
    const message =
      `job ${view.id} (${view.ingestion}) is stuck ${view.state}: no progress for ${Math.round(idleMs / 1000)} s` +
      (view.state === 'runnable' ? ' (no worker has taken its tasks)' : '');
    await tracker.markStuckAlerted(view.id);
    await tracker.log(view.id, 'warn', message);
    this.#options.logger?.warn(
      { job: view.id, ingestion: view.ingestion, state: view.state, idleMs },
      message,
    );
    await this.#post(this.#alert('job.stuck', view, message));
  }

  start(intervalMs = 15_000): void {
    this.#timer ??= setInterval(() => {
      this.scan().catch((err: unknown) => this.#options.logger?.error({ err }, 'batch watchdog scan failed'));
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #alert(event: JobAlert['event'], view: JobView, message: string): JobAlert {
    return {
      event,
      url: `${this.#options.config.consoleUrl}${view.url}`,
      message,
      job: {
        id: view.id,
        ingestion: view.ingestion,
        state: view.state,
        attempt: view.attempt,
        mode: view.mode,
        createdAt: view.createdAt,
        startedAt: view.startedAt,
        lastProgressAt: view.progress.lastProgressAt,
        progress: view.progress,
        plan: view.plan?.explanation,
        failure: view.failure,
      },
    };
  }

  async #post(alert: JobAlert): Promise<void> {
    const webhook = this.#options.config.webhook;
    if (webhook === undefined) return;
    try {
      const response = await fetch(webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (err) {
      this.#options.logger?.error({ err, webhook, job: alert.job.id }, 'batch: webhook call failed');
    }
  }
}
