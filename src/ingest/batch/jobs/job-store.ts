import {
  type ErrorSample,
  type JobLogLine,
  type JobProgress,
  type JobRecord,
  type JobState,
  type JobView,
  type TaskRecord,
  ZERO_COUNTS,
} from './job-types.ts';

/**
 * Where batch jobs live: the embedded LMDB environment in embedded mode, Redis in distributed mode.
 * Every process that splits, runs, waits for or inspects jobs talks to the same store, so a
 * `larder jobs cancel` in one terminal stops a backfill running in another.
 *
 * Writers never contend on one record: a job record changes only on state transitions (through
 * the atomic `updateJob`), and each task record is written by the one worker running it. Job
 * progress is derived from the task records when a job is read.
 */
export interface JobStore {
  /** Creates the job and its tasks. With `dedupeKey`, returns the existing job for that key instead. */
  createJob(job: JobRecord, tasks: readonly TaskRecord[], dedupeKey?: string): Promise<JobRecord>;
  getJob(id: string): Promise<JobRecord | undefined>;
  /**
   * Atomically replaces the job with `change(current)`; a change returning undefined leaves it as
   * it is. Resolves the stored record (changed or not), undefined when there is no such job.
   */
  updateJob(
    id: string,
    change: (current: JobRecord) => JobRecord | undefined,
  ): Promise<JobRecord | undefined>;
  /** Newest first. */
  listJobs(options?: JobListOptions): Promise<JobRecord[]>;
  /** Replaces the tasks of a job (its task split adds them after the job is created). */
  putTasks(jobId: string, tasks: readonly TaskRecord[]): Promise<void>;
  putTask(task: TaskRecord): Promise<void>;
  getTasks(jobId: string): Promise<TaskRecord[]>;
  getTask(jobId: string, index: number): Promise<TaskRecord | undefined>;
  appendLog(jobId: string, line: JobLogLine): Promise<void>;
  /** Oldest first, at most the last `limit` lines (default 200). */
  logs(jobId: string, limit?: number): Promise<JobLogLine[]>;
  getMeta(key: string): Promise<unknown>;
  putMeta(key: string, value: unknown): Promise<void>;
  close(): Promise<void>;
}

export interface JobListOptions {
  /** Default 50. */
  readonly limit?: number;
  readonly states?: readonly JobState[];
  readonly ingestion?: string;
  /** Only jobs created before this job (a page's last id: the cursor of the next page). */
  readonly before?: string;
  /** Only jobs whose id or ingestion name contains this text (case-insensitive). */
  readonly search?: string;
}

/** Whether `job` passes the filters of `options` (the cursor and the limit aside). */
export function jobMatches(job: JobRecord, options: JobListOptions): boolean {
  if (options.states !== undefined && !options.states.includes(job.state)) return false;
  if (options.ingestion !== undefined && job.ingestion !== options.ingestion) return false;
  if (options.search !== undefined) {
    const text = options.search.toLowerCase();
    if (!job.id.toLowerCase().includes(text) && !job.ingestion.toLowerCase().includes(text)) return false;
  }
  return true;
}

const MAX_JOB_SAMPLES = 20;

/** The job as people see it: its record, progress summed over its tasks, and the error sample. */
export function toJobView(job: JobRecord, tasks: readonly TaskRecord[]): JobView {
  let { rowsRead, written, filtered, rejected, bytesRead } = ZERO_COUNTS;
  let bytesTotal = 0;
  let rowsTotal: number | undefined = 0;
  let tasksSucceeded = 0;
  let tasksFailed = 0;
  let tasksRunning = 0;
  let lastProgressAt = job.updatedAt;
  const errorSamples: ErrorSample[] = [];
  for (const task of tasks) {
    rowsRead += task.counts.rowsRead;
    written += task.counts.written;
    filtered += task.counts.filtered;
    rejected += task.counts.rejected;
    bytesRead += task.counts.bytesRead;
    bytesTotal += task.slice.bytes;
    rowsTotal =
      rowsTotal === undefined || task.slice.rows === undefined ? undefined : rowsTotal + task.slice.rows;
    if (task.state === 'succeeded') tasksSucceeded++;
    else if (task.state === 'failed') tasksFailed++;
    else if (task.state === 'running') tasksRunning++;
    if (task.updatedAt > lastProgressAt) lastProgressAt = task.updatedAt;
    for (const sample of task.errorSamples)
      if (errorSamples.length < MAX_JOB_SAMPLES) errorSamples.push(sample);
  }
  const progress: JobProgress = {
    rowsRead,
    written,
    filtered,
    rejected,
    bytesRead,
    bytesTotal,
    rowsTotal: tasks.length === 0 ? undefined : rowsTotal,
    tasksTotal: tasks.length,
    tasksSucceeded,
    tasksFailed,
    tasksRunning,
    errorRate: rowsRead === 0 ? 0 : rejected / rowsRead,
    lastProgressAt,
  };
  return { ...job, progress, errorSamples };
}

/** Reads a job with its tasks as a view; undefined when there is no such job. */
export async function viewJob(store: JobStore, id: string): Promise<JobView | undefined> {
  const job = await store.getJob(id);
  if (job === undefined) return undefined;
  return toJobView(job, await store.getTasks(id));
}
