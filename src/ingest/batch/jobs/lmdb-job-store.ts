import type { Database } from 'lmdb';
import { committed } from '../../../store/lmdb/lmdb-commit-failures.ts';
import type { LmdbEnv } from '../../../store/lmdb/lmdb-env.ts';
import { jobMatches, type JobListOptions, type JobStore } from './job-store.ts';
import type { JobLogLine, JobRecord, TaskRecord } from './job-types.ts';

type Key = (string | number)[];

const MAX_LOG_LINES = 1000;

/**
 * The embedded job store: one named database (`batchJobs`) in the Larder LMDB environment, so jobs
 * survive restarts and every process on the machine that opens the data directory sees them.
 *
 * Keys: `['job', id]`, `['task', jobId, index]`, `['log', jobId, at, seq]`, `['meta', key]`,
 * `['dedupe', key]`. Job ids sort by creation time, so listing newest first is a reverse scan.
 */
export class LmdbJobStore implements JobStore {
  readonly #db: Database<unknown, Key>;
  #logSeq = 0;

  /** With `ownsEnv`, `close()` closes the environment too (a store opened just for jobs). */
  readonly #options: { readonly ownsEnv?: boolean };
  readonly #env: LmdbEnv;
  constructor(env: LmdbEnv, options: { readonly ownsEnv?: boolean } = {}) {
    this.#options = options;
    this.#env = env;
    this.#db = env.root.openDB<unknown, Key>({ name: 'batchJobs' });
  }

  async createJob(job: JobRecord, tasks: readonly TaskRecord[], dedupeKey?: string): Promise<JobRecord> {
    let existing: JobRecord | undefined;
    await committed(
      this.#env.path,
      this.#db.transaction(() => {
        if (dedupeKey !== undefined) {
          const id = this.#db.get(['dedupe', dedupeKey]) as string | undefined;
          existing = id === undefined ? undefined : (this.#db.get(['job', id]) as JobRecord | undefined);
          if (existing !== undefined) return;
          this.#db.putSync(['dedupe', dedupeKey], job.id);
        }
        this.#db.putSync(['job', job.id], job);
        for (const task of tasks) this.#db.putSync(['task', job.id, task.index], task);
      }),
    );
    return existing ?? job;
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    return this.#db.get(['job', id]) as JobRecord | undefined;
  }

  async updateJob(
    id: string,
    change: (current: JobRecord) => JobRecord | undefined,
  ): Promise<JobRecord | undefined> {
    let result: JobRecord | undefined;
    await committed(
      this.#env.path,
      this.#db.transaction(() => {
        const current = this.#db.get(['job', id]) as JobRecord | undefined;
        if (current === undefined) return;
        const next = change(current);
        result = next ?? current;
        if (next !== undefined) this.#db.putSync(['job', id], next);
      }),
    );
    return result;
  }

  async listJobs(options: JobListOptions = {}): Promise<JobRecord[]> {
    const limit = options.limit ?? 50;
    const out: JobRecord[] = [];
    // Ids sort by creation time: newest first is a reverse scan, from just below the cursor.
    const start = options.before === undefined ? ['job', '\uffff'] : ['job', options.before];
    for (const { key, value } of this.#db.getRange({ start, end: ['job'], reverse: true })) {
      if (options.before !== undefined && key[1] === options.before) continue;
      const job = value as JobRecord;
      if (!jobMatches(job, options)) continue;
      out.push(job);
      if (out.length >= limit) break;
    }
    return out;
  }

  async putTasks(jobId: string, tasks: readonly TaskRecord[]): Promise<void> {
    await committed(
      this.#env.path,
      this.#db.transaction(() => {
        for (const key of this.#db.getKeys({ start: ['task', jobId], end: ['task', jobId, Infinity] })) {
          this.#db.removeSync(key);
        }
        for (const task of tasks) this.#db.putSync(['task', jobId, task.index], task);
      }),
    );
  }

  async putTask(task: TaskRecord): Promise<void> {
    await committed(this.#env.path, this.#db.put(['task', task.jobId, task.index], task));
  }

  async getTasks(jobId: string): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    for (const { value } of this.#db.getRange({ start: ['task', jobId], end: ['task', jobId, Infinity] })) {
      out.push(value as TaskRecord);
    }
    return out;
  }

  async getTask(jobId: string, index: number): Promise<TaskRecord | undefined> {
    return this.#db.get(['task', jobId, index]) as TaskRecord | undefined;
  }

  async appendLog(jobId: string, line: JobLogLine): Promise<void> {
    this.#logSeq = (this.#logSeq + 1) % 1_000_000;
    await committed(this.#env.path, this.#db.put(['log', jobId, line.at, this.#logSeq], line));
    // Bound the log: drop the oldest lines beyond the cap (rare, so counting is fine).
    const keys = [...this.#db.getKeys({ start: ['log', jobId], end: ['log', jobId, Infinity] })];
    if (keys.length > MAX_LOG_LINES) {
      await committed(
        this.#env.path,
        this.#db.transaction(() => {
          for (const key of keys.slice(0, keys.length - MAX_LOG_LINES)) this.#db.removeSync(key);
        }),
      );
    }
  }

  async logs(jobId: string, limit = 200): Promise<JobLogLine[]> {
    const out: JobLogLine[] = [];
    for (const { value } of this.#db.getRange({
      start: ['log', jobId, Infinity],
      end: ['log', jobId],
      reverse: true,
      limit,
    })) {
      out.push(value as JobLogLine);
    }
    return out.reverse();
  }

  async getMeta(key: string): Promise<unknown> {
    return this.#db.get(['meta', key]);
  }

  async putMeta(key: string, value: unknown): Promise<void> {
    await committed(this.#env.path, this.#db.put(['meta', key], value));
  }

  async close(): Promise<void> {
    // A shared environment belongs to whoever opened it.
    if (this.#options.ownsEnv === true) await this.#env.close();
  }
}
