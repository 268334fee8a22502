import type { JobRecord } from '../jobs/job-types.ts';

/**
 * Runs the tasks of jobs split into tasks. Two implementations: a pool of worker threads inside the Larder
 * process (embedded) and a Redis queue served by `larder worker` processes on any machine
 * (distributed). Either way, runners report through the job store (via `JobTracker`), so whoever
 * waits for a job only watches the store.
 */
export interface JobRunner {
  readonly mode: JobRecord['mode'];
  /** How many tasks could run at once right now; a job's task split sizes parallelism against it. */
  workersAvailable(): Promise<number>;
  /**
   * Hands the given tasks of a runnable job over for execution and resolves once they are
   * accepted (not when they finish). Retries of failed attempts are the runner's business, up to
   * the ingestion's `retries`.
   */
  dispatch(job: JobRecord, taskIndexes: readonly number[]): Promise<void>;
  /** Stops taking work; running tasks are abandoned to be retried (their writes are idempotent). */
  close(): Promise<void>;
}
