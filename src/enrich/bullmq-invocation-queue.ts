import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Queue, Worker, type Job, type JobState } from 'bullmq';
import { Redis } from 'ioredis';
import type {
  Claim,
  Invocation,
  InvocationError,
  InvocationQueue,
  InvocationState,
  NewInvocation,
  QueueCounts,
} from './invocation-queue.ts';

export interface BullmqQueueOptions {
  readonly redisUrl: string;
  /** Key prefix; the queues live under `<prefix>:enrich:<enricher>:*`. */
  readonly prefix: string;
  /** How long succeeded invocations are kept, for their status. */
  readonly retentionMs: number;
}

/** What a job carries. */
interface JobData {
  readonly input: Record<string, unknown>;
  /** The last failure, kept for `failed` (awaiting retry) and `dead`. */
  readonly error?: InvocationError;
}

/** A lease never ends sooner than this: BullMQ checks stalled jobs at half the lock duration. */
const MIN_LEASE_MS = 1_000;

/**
 * The distributed invocation queue: one BullMQ queue per enricher, on Redis (BullMQ and ioredis are
 * Larder dependencies already, and the batch workers use the same engine). States map onto BullMQ's:
 *
 * | invocation | BullMQ |
 * |---|---|
 * | queued | waiting (also paused, prioritized) |
 * | running | active, under the lock of the token it was taken with (the lease) |
 * | failed | delayed: `retry` moves the job to delayed until `runAt` |
 * | succeeded | completed (removed after `retentionMs`) |
 * | dead | failed: jobs are added with `attempts: 1`, so `bury` (moveToFailed) is final |
 *
 * Jobs are taken manually (`Worker.getNextJob` without a processor), one per free slot, so a
 * worker never holds more than it runs. A worker that dies stops nothing: its jobs' locks expire
 * and BullMQ's stalled-job check (run by every taking process) puts them back in the wait list.
 * `attempts` is BullMQ's `attemptsStarted`, which counts such re-takes too. BullMQ's own stall
 * limit is set out of reach: the enrichment worker decides when an invocation is dead.
 */
export class BullmqInvocationQueue implements InvocationQueue {
  readonly engine = 'bullmq' as const;
  readonly #options: BullmqQueueOptions;
  /** Puts and reads: a Redis that is down fails them after a few tries, so callers hear of it. */
  readonly #connection: Redis;
  /** Takes: BullMQ's workers want no per-request retry limit. */
  readonly #takeConnection: Redis;
  readonly #queues = new Map<string, Queue<JobData>>();
  readonly #workers = new Map<string, Worker<JobData>>();
  readonly #added = new EventEmitter();
  /** The jobs taken by this process and not settled yet, by lock token. */
  readonly #taken = new Map<string, Job<JobData>>();
  readonly #id = randomUUID();
  #tokens = 0;

  constructor(options: BullmqQueueOptions) {
    this.#options = options;
    this.#connection = new Redis(options.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
    this.#takeConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  }

  async put(enricher: string, invocations: readonly NewInvocation[]): Promise<void> {
    if (invocations.length === 0) return;
    const age = Math.max(1, Math.ceil(this.#options.retentionMs / 1000));
    await this.#queue(enricher).addBulk(
      invocations.map(({ id, input }) => ({
        name: enricher,
        data: { input },
        // An id BullMQ holds already (in any state) is not added again.
        opts: { jobId: id, attempts: 1, removeOnComplete: { age }, removeOnFail: false },
      })),
    );
    this.#added.emit('added', enricher);
  }

  async take(enricher: string, max: number, leaseMs: number): Promise<Claim[]> {
    const worker = await this.#worker(enricher, Math.max(MIN_LEASE_MS, leaseMs));
    // One moveToActive per slot, all at once: they share the connection's round trips.
    const taken = await Promise.all(
      Array.from({ length: max }, async () => {
        const token = `${this.#id}:${++this.#tokens}`;
        const job = (await worker.getNextJob(token, { block: false })) as Job<JobData> | undefined;
        return job?.id === undefined ? undefined : { job, token };
      }),
    );
    const claims: Claim[] = [];
    for (const entry of taken) {
      if (entry === undefined) continue;
      this.#taken.set(entry.token, entry.job);
      claims.push({ invocation: toInvocation(enricher, entry.job, 'running'), token: entry.token });
    }
    return claims;
  }

  async succeed(enricher: string, claim: Claim, result: unknown): Promise<boolean> {
    const job = await this.#claimed(enricher, claim);
    return job !== undefined && settled(() => job.moveToCompleted(result ?? null, claim.token, false));
  }

  async retry(enricher: string, claim: Claim, error: InvocationError, runAt: number): Promise<boolean> {
    const job = await this.#claimed(enricher, claim);
    if (job === undefined) return false;
    await job.updateData({ ...job.data, error });
    return settled(() => job.moveToDelayed(runAt, claim.token));
  }

  async bury(enricher: string, claim: Claim, error: InvocationError): Promise<boolean> {
    const job = await this.#claimed(enricher, claim);
    if (job === undefined) return false;
    await job.updateData({ ...job.data, error });
    return settled(() => job.moveToFailed(new Error(error.message), claim.token, false));
  }

  async get(enricher: string, id: string): Promise<Invocation | undefined> {
    // The state first, then the job: a job read before it completed would lack its result.
    const state = stateOf(await this.#queue(enricher).getJobState(id));
    if (state === undefined) return undefined;
    const job = await this.#job(enricher, id);
    return job === undefined ? undefined : toInvocation(enricher, job, state);
  }

  async counts(enricher: string): Promise<QueueCounts> {
    const queue = this.#queue(enricher);
    const c = await queue.getJobCounts(
      'wait',
      'paused',
      'prioritized',
      'waiting-children',
      'active',
      'delayed',
      'completed',
      'failed',
    );
    // The wait list's far end holds the oldest job; delayed jobs are ordered by when they are due.
    const [oldestWaiting] = await queue.getJobs(['wait'], 0, 0, true);
    const [firstRetry] = await queue.getJobs(['delayed'], 0, 0, true);
    const times = [oldestWaiting?.timestamp, firstRetry?.timestamp].filter(
      (t): t is number => t !== undefined,
    );
    return {
      queued: (c.wait ?? 0) + (c.paused ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0),
      running: c.active ?? 0,
      failed: c.delayed ?? 0,
      succeeded: c.completed ?? 0,
      dead: c.failed ?? 0,
      oldestWaitingAt: times.length === 0 ? undefined : Math.min(...times),
    };
  }

  async dead(
    enricher: string,
    options: { readonly limit?: number; readonly after?: string } = {},
  ): Promise<Invocation[]> {
    const queue = this.#queue(enricher);
    const limit = options.limit ?? 100;
    let start = 0;
    if (options.after !== undefined) {
      const rank = await this.#connection.zrank(queue.toKey('failed'), options.after);
      if (rank !== null) start = rank + 1;
    }
    const jobs = await queue.getJobs(['failed'], start, start + limit - 1, true);
    return jobs
      .filter((job): job is Job<JobData> => job.id !== undefined)
      .map((job) => toInvocation(enricher, job as Job<JobData>, 'dead'));
  }

  async replay(enricher: string, ids: readonly string[]): Promise<string[]> {
    const replayed: string[] = [];
    for (const id of ids) {
      const job = await this.#job(enricher, id);
      if (job === undefined || (await job.getState()) !== 'failed') continue;
      const { error: _error, ...data } = job.data;
      await job.updateData(data);
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      replayed.push(id);
    }
    if (replayed.length > 0) this.#added.emit('added', enricher);
    return replayed;
  }

  async purge(): Promise<number> {
    return 0; // BullMQ removes completed jobs itself (`removeOnComplete.age`).
  }

  onAdded(listener: (enricher: string) => void): () => void {
    this.#added.on('added', listener);
    return () => this.#added.off('added', listener);
  }

  async close(): Promise<void> {
    this.#added.removeAllListeners();
    await Promise.all([...this.#workers.values()].map((w) => w.close(true)));
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#workers.clear();
    this.#queues.clear();
    this.#taken.clear();
    this.#connection.disconnect();
    this.#takeConnection.disconnect();
  }

  #queue(enricher: string): Queue<JobData> {
    let queue = this.#queues.get(enricher);
    if (queue === undefined) {
      queue = new Queue<JobData>(enricher, { connection: this.#connection, prefix: this.#prefix() });
      this.#queues.set(enricher, queue);
    }
    return queue;
  }

  /** The taking side of one enricher's queue, with its lock duration (the lease). */
  async #worker(enricher: string, leaseMs: number): Promise<Worker<JobData>> {
    const key = `${enricher}\u0000${leaseMs}`;
    let worker = this.#workers.get(key);
    if (worker === undefined) {
      worker = new Worker<JobData>(enricher, null, {
        connection: this.#takeConnection,
        prefix: this.#prefix(),
        autorun: false,
        lockDuration: leaseMs,
        stalledInterval: Math.max(500, Math.round(leaseMs / 2)),
        maxStalledCount: Number.MAX_SAFE_INTEGER,
      });
      this.#workers.set(key, worker);
      await worker.waitUntilReady();
      await worker.startStalledCheckTimer();
    }
    return worker;
  }

  /** The job of a claim: the one taken (bound to its worker), else read back by id. */
  async #claimed(enricher: string, claim: Claim): Promise<Job<JobData> | undefined> {
    const taken = this.#taken.get(claim.token);
    this.#taken.delete(claim.token);
    return taken ?? (await this.#job(enricher, claim.invocation.id));
  }

  async #job(enricher: string, id: string): Promise<Job<JobData> | undefined> {
    return (await this.#queue(enricher).getJob(id)) ?? undefined;
  }

  #prefix(): string {
    return `${this.#options.prefix}:enrich`;
  }
}

/** Runs a lock-checked BullMQ move; false when the lock was lost (another worker holds the job). */
async function settled(move: () => Promise<unknown>): Promise<boolean> {
  try {
    await move();
    return true;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/lock|not in the active state|Missing key/i.test(message)) return false;
    throw err;
  }
}

function stateOf(state: JobState | 'unknown'): InvocationState | undefined {
  switch (state) {
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return 'queued';
    case 'active':
      return 'running';
    case 'delayed':
      return 'failed';
    case 'completed':
      return 'succeeded';
    case 'failed':
      return 'dead';
    default:
      return undefined;
  }
}

function toInvocation(enricher: string, job: Job<JobData>, state: InvocationState): Invocation {
  const error =
    state === 'failed' || state === 'dead'
      ? (job.data.error ?? { code: 'LARDER_ERR_ENRICH_HANDLER', message: job.failedReason ?? 'failed' })
      : undefined;
  return {
    id: job.id as string,
    enricher,
    state,
    input: job.data.input,
    attempts: job.attemptsStarted ?? 0,
    createdAt: job.timestamp,
    updatedAt: job.finishedOn ?? job.processedOn ?? job.timestamp,
    ...(state === 'succeeded' ? { result: job.returnvalue } : {}),
    ...(error === undefined ? {} : { error }),
  };
}
