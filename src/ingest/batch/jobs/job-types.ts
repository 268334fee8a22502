import type { EntityDef, FeatureDef } from '../../../registry/types.ts';
import type { IngestionDef, SourceFormat } from '../ingestion-def.ts';

/**
 * Batch jobs and their tasks, as stored by a {@link JobStore} and shown by `larder jobs` and the
 * console. All plain JSON data.
 *
 * Job states: `queued` (created; planning, or waiting for its DAG dependencies) → `runnable`
 * (planned, tasks handed to the runner, no worker has started one yet) → `running` → `succeeded`,
 * `failed` or `cancelled`. A retry moves a failed or cancelled job back to `runnable` with
 * `attempt + 1`, re-running only its unfinished tasks.
 */
export type JobState = 'queued' | 'runnable' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const TERMINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];
export const JOB_STATES: readonly JobState[] = [
  'queued',
  'runnable',
  'running',
  'succeeded',
  'failed',
  'cancelled',
];

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.includes(state);
}

export type TaskState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** One slice of the input: a whole file, a byte range of a text file, or Parquet row groups. */
export interface TaskSlice {
  /** Local absolute path or `s3://bucket/key`. */
  readonly uri: string;
  readonly format: SourceFormat;
  /** Size of the whole object, bytes. */
  readonly objectSize: number;
  /** Last-modified time of the object, epoch ms: the row time when the ingestion names none. */
  readonly mtimeMs: number;
  /** Text formats: the byte range `[start, end)`, aligned on record boundaries. */
  readonly start: number;
  readonly end: number;
  /** Parquet: the row groups `[rowGroupStart, rowGroupEnd)`. */
  readonly rowGroupStart?: number;
  readonly rowGroupEnd?: number;
  /** CSV: the header of the file, for ranges that do not start at byte 0. */
  readonly header?: readonly string[];
  /** Bytes this slice covers (for progress). */
  readonly bytes: number;
  /** Rows this slice holds, when known up front (Parquet). */
  readonly rows?: number;
}

/** A bad row kept in the job's error sample. */
export interface ErrorSample {
  readonly task: number;
  /** `file@byteOffset` for text formats, `file#row` for Parquet. */
  readonly position: string;
  readonly code: string;
  readonly reason: string;
  /** The row, as JSON text, truncated. */
  readonly row: string;
}

export interface TaskCounts {
  readonly rowsRead: number;
  readonly written: number;
  readonly filtered: number;
  readonly rejected: number;
  readonly bytesRead: number;
}

export const ZERO_COUNTS: TaskCounts = Object.freeze({
  rowsRead: 0,
  written: 0,
  filtered: 0,
  rejected: 0,
  bytesRead: 0,
});

export interface TaskRecord {
  readonly jobId: string;
  readonly index: number;
  readonly slice: TaskSlice;
  readonly state: TaskState;
  /** Attempts started, over all job attempts. */
  readonly attempts: number;
  /** Counts of the current (or last) attempt; a retried task starts again from zero. */
  readonly counts: TaskCounts;
  readonly errorSamples: readonly ErrorSample[];
  /** Who runs it: `thread-2@host:pid`, `worker@host:pid`. */
  readonly worker?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly updatedAt: number;
  /** Time spent running the successful attempt, ms (for throughput history). */
  readonly busyMs?: number;
}

/** How a job's input was split into tasks, and the parallelism chosen for them. */
export interface TaskSplit {
  readonly files: number;
  readonly tasks: number;
  readonly parallelism: number;
  readonly workersAvailable: number;
  readonly totalBytes: number;
  /** Known up front for Parquet. */
  readonly totalRows: number | undefined;
  /** Per-worker throughput the sizing used, and where it came from. */
  readonly throughput: {
    readonly bytesPerSec: number;
    readonly source: 'history' | 'calibration' | 'default' | 'fixed';
  };
  readonly targetSeconds: number;
  /** Human-readable: why this many tasks and workers. */
  readonly explanation: string;
}

/** What the job runs: fixed when the job is created (a retry re-resolves the mapping). */
export interface JobSpec {
  readonly ingestion: IngestionDef;
  readonly feature: FeatureDef;
  readonly entity: EntityDef;
  /** `--from` / `--to`: only rows with from <= ts < to, epoch ms. */
  readonly from: number | undefined;
  readonly to: number | undefined;
}

export type JobTrigger = 'backfill' | 'schedule' | 'dag';

/** The stored job record (progress is derived from its tasks; see {@link JobView}). */
export interface JobRecord {
  readonly id: string;
  readonly ingestion: string;
  readonly trigger: JobTrigger;
  /** Jobs created together by one DAG run share it. */
  readonly runId: string | undefined;
  /** Job ids of the same run this one waits for. */
  readonly waitsFor: readonly string[];
  readonly state: JobState;
  readonly attempt: number;
  readonly mode: 'embedded' | 'distributed';
  readonly spec: JobSpec;
  /** The job's task split (stored, and shown to operators, as `plan`). */
  readonly plan: TaskSplit | undefined;
  readonly failure: { readonly code: string; readonly message: string } | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly runnableAt: number | undefined;
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  /** When the stuck alert was last sent, so one stall alerts once. */
  readonly stuckAlertedAt: number | undefined;
  /** Set by the process that splits the job into tasks, so two processes never split (and run) it twice. */
  readonly planningAt?: number | undefined;
  /** When the failure alert was sent. */
  readonly failureAlertedAt?: number | undefined;
  /** The stable console path of the job: `/jobs/<id>`. */
  readonly url: string;
}

export interface JobProgress extends TaskCounts {
  readonly bytesTotal: number;
  readonly rowsTotal: number | undefined;
  readonly tasksTotal: number;
  readonly tasksSucceeded: number;
  readonly tasksFailed: number;
  readonly tasksRunning: number;
  /** Rejected rows / rows read. */
  readonly errorRate: number;
  /** Latest change of the job or of any task: what stuck detection watches. */
  readonly lastProgressAt: number;
}

/** A job with its derived progress and merged error sample, as shown to people. */
export interface JobView extends JobRecord {
  readonly progress: JobProgress;
  readonly errorSamples: readonly ErrorSample[];
}

export interface JobLogLine {
  readonly at: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

/** The stable console path of a job. */
export function jobPath(id: string): string {
  return `/jobs/${encodeURIComponent(id)}`;
}
