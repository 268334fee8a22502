import { Redis } from 'ioredis';
import { jobMatches, type JobListOptions, type JobStore } from './job-store.ts';
import type { JobLogLine, JobRecord, TaskRecord } from './job-types.ts';

const MAX_LOG_LINES = 1000;

export interface RedisJobStoreOptions {
  /** `redis://host:port/db`. */
  readonly url: string;
  /** Key prefix, so several Larder installations (or tests) share one Redis. Default `larder:batch:`. */
  readonly prefix?: string;
}

/**
 * The distributed job store, in Redis: every `larder worker`, scheduler and CLI on any machine sees
 * the same jobs. Layout under the prefix: `job:<id>` (JSON), `jobs` (sorted set by creation time),
 * `tasks:<id>` (hash index → JSON), `logs:<id>` (capped list), `meta:<key>`, `dedupe:<key>`.
 *
 * `updateJob` is an optimistic WATCH/MULTI transaction on a connection of its own, serialised
 * within the process (WATCH state is per connection), retried when another process won the race.
 */
export class RedisJobStore implements JobStore {
  readonly #redis: Redis;
  readonly #txRedis: Redis;
  readonly #prefix: string;
  #txQueue: Promise<unknown> = Promise.resolve();

  constructor(options: RedisJobStoreOptions) {
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: 3, lazyConnect: false });
    this.#txRedis = this.#redis.duplicate();
    this.#prefix = options.prefix ?? 'larder:batch:';
  }

  #key(...parts: string[]): string {
    return this.#prefix + parts.join(':');
  }

  async createJob(job: JobRecord, tasks: readonly TaskRecord[], dedupeKey?: string): Promise<JobRecord> {
    if (dedupeKey !== undefined) {
      const claimed = await this.#redis.set(this.#key('dedupe', dedupeKey), job.id, 'EX', 7 * 86_400, 'NX');
      if (claimed === null) {
        const id = await this.#redis.get(this.#key('dedupe', dedupeKey));
        const existing = id === null ? undefined : await this.getJob(id);
        if (existing !== undefined) return existing;
      }
    }
    const multi = this.#redis.multi();
    multi.set(this.#key('job', job.id), JSON.stringify(job));
    multi.zadd(this.#key('jobs'), job.createdAt, job.id);
    if (tasks.length > 0) {
      multi.hset(this.#key('tasks', job.id), ...tasks.flatMap((t) => [String(t.index), JSON.stringify(t)]));
    }
    await multi.exec();
    return job;
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const text = await this.#redis.get(this.#key('job', id));
    return text === null ? undefined : (JSON.parse(text) as JobRecord);
  }

  updateJob(
    id: string,
    change: (current: JobRecord) => JobRecord | undefined,
  ): Promise<JobRecord | undefined> {
    const run = async (): Promise<JobRecord | undefined> => {
      const key = this.#key('job', id);
      for (;;) {
        await this.#txRedis.watch(key);
        const text = await this.#txRedis.get(key);
        if (text === null) {
          await this.#txRedis.unwatch();
          return undefined;
        }
        const current = JSON.parse(text) as JobRecord;
        const next = change(current);
        if (next === undefined) {
          await this.#txRedis.unwatch();
          return current;
        }
        const result = await this.#txRedis.multi().set(key, JSON.stringify(next)).exec();
        if (result !== null) return next;
        // Another process changed the job between WATCH and EXEC: read it again.
      }
    };
    const next = this.#txQueue.then(run, run);
    this.#txQueue = next.catch(() => undefined);
    return next;
  }

  async listJobs(options: JobListOptions = {}): Promise<JobRecord[]> {
    const limit = options.limit ?? 50;
    const out: JobRecord[] = [];
    const page = 200;
    // Newest first; with a cursor, from the job just after it in that order.
    let offset = 0;
    if (options.before !== undefined) {
      const rank = await this.#redis.zrevrank(this.#key('jobs'), options.before);
      if (rank === null) return out;
      offset = rank + 1;
    }
    for (; out.length < limit; offset += page) {
      const ids = await this.#redis.zrevrange(this.#key('jobs'), offset, offset + page - 1);
      if (ids.length === 0) break;
      const texts = await this.#redis.mget(ids.map((id) => this.#key('job', id)));
      for (const text of texts) {
        if (text === null) continue;
        const job = JSON.parse(text) as JobRecord;
        if (!jobMatches(job, options)) continue;
        out.push(job);
        if (out.length >= limit) break;
      }
      if (ids.length < page) break;
    }
    return out;
  }

  async putTasks(jobId: string, tasks: readonly TaskRecord[]): Promise<void> {
    const multi = this.#redis.multi().del(this.#key('tasks', jobId));
    if (tasks.length > 0) {
      multi.hset(this.#key('tasks', jobId), ...tasks.flatMap((t) => [String(t.index), JSON.stringify(t)]));
    }
    await multi.exec();
  }

  async putTask(task: TaskRecord): Promise<void> {
    await this.#redis.hset(this.#key('tasks', task.jobId), String(task.index), JSON.stringify(task));
  }

  async getTasks(jobId: string): Promise<TaskRecord[]> {
    const all = await this.#redis.hgetall(this.#key('tasks', jobId));
    return Object.values(all)
      .map((text) => JSON.parse(text) as TaskRecord)
      .sort((a, b) => a.index - b.index);
  }

  async getTask(jobId: string, index: number): Promise<TaskRecord | undefined> {
    const text = await this.#redis.hget(this.#key('tasks', jobId), String(index));
    return text === null ? undefined : (JSON.parse(text) as TaskRecord);
  }

  async appendLog(jobId: string, line: JobLogLine): Promise<void> {
    const key = this.#key('logs', jobId);
    await this.#redis.multi().rpush(key, JSON.stringify(line)).ltrim(key, -MAX_LOG_LINES, -1).exec();
  }

  async logs(jobId: string, limit = 200): Promise<JobLogLine[]> {
    const texts = await this.#redis.lrange(this.#key('logs', jobId), -limit, -1);
    return texts.map((text) => JSON.parse(text) as JobLogLine);
  }

  async getMeta(key: string): Promise<unknown> {
    const text = await this.#redis.get(this.#key('meta', key));
    return text === null ? undefined : (JSON.parse(text) as unknown);
  }

  async putMeta(key: string, value: unknown): Promise<void> {
    await this.#redis.set(this.#key('meta', key), JSON.stringify(value));
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#txQueue]);
    this.#txRedis.disconnect();
    await this.#redis.quit().catch(() => undefined);
  }
}
