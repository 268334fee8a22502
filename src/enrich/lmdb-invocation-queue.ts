import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Database } from 'lmdb';
import { committed } from '../store/lmdb/lmdb-commit-failures.ts';
import type { LmdbEnv } from '../store/lmdb/lmdb-env.ts';
import type {
  Claim,
  Invocation,
  InvocationError,
  InvocationQueue,
  InvocationState,
  NewInvocation,
  QueueCounts,
} from './invocation-queue.ts';

type Key = (string | number)[];

/** What is stored per invocation: the invocation without its key parts, plus scheduling state. */
interface StoredInvocation {
  readonly state: InvocationState;
  readonly input: Record<string, unknown>;
  readonly attempts: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** queued/failed: due from then on; running: the lease's end. */
  readonly dueAt: number;
  readonly token?: string;
  readonly result?: unknown;
  readonly error?: InvocationError;
}

interface PendingSettle {
  readonly enricher: string;
  readonly claim: Claim;
  readonly change: (stored: StoredInvocation, now: number) => StoredInvocation;
  readonly resolve: (settled: boolean) => void;
  readonly reject: (err: unknown) => void;
}

/** The end of every key range over times. */
const LATEST = Number.MAX_SAFE_INTEGER;
/** How far `counts` looks through the due index for the oldest waiting invocation. */
const OLDEST_SCAN_LIMIT = 1_000;

/**
 * The embedded invocation queue: one named database (`enrichQueue`) in the data directory's LMDB
 * environment, so every process that opens the directory (`larder serve`, `larder enrich`) shares
 * it, and LMDB's one writer at a time makes every take atomic across them.
 *
 * Keys (lmdb's ordered-binary tuples):
 * - `['inv', enricher, id]` -> the invocation;
 * - `['due', enricher, dueAt, id]` for queued, failed and running invocations: when each may be
 *   taken (a running one's dueAt is its lease's end), so `take` is one range scan up to now;
 * - `['dead', enricher, deadAt, id]` and `['done', enricher, finishedAt, id]`: dead ones in order
 *   of death, succeeded ones in order of finishing (for `purge`);
 * - `['count', enricher, state]` -> how many are in that state, kept in the same transactions.
 *
 * Each change is one write transaction; `put` also waits for the flush to disk, so an event
 * acknowledged after its invocation was queued can never lose it.
 */
export class LmdbInvocationQueue implements InvocationQueue {
  readonly engine = 'lmdb' as const;
  readonly #env: LmdbEnv;
  readonly #db: Database<unknown, Key>;
  readonly #now: () => number;
  readonly #added = new EventEmitter();
  readonly #settles: PendingSettle[] = [];

  constructor(env: LmdbEnv, options: { readonly now?: () => number } = {}) {
    this.#env = env;
    this.#db = env.root.openDB<unknown, Key>({ name: 'enrichQueue' });
    this.#now = options.now ?? Date.now;
  }
  /** A queue transaction; a failed commit (a full disk) is LARDER_ERR_STORE_WRITE_FAILED. */
  #transaction<T>(action: () => T): Promise<T> {
    return committed(this.#env.path, this.#db.transaction(action));
  }

  async put(enricher: string, invocations: readonly NewInvocation[]): Promise<void> {
    if (invocations.length === 0) return;
    const now = this.#now();
    await this.#transaction(() => {
      let added = 0;
      for (const { id, input } of invocations) {
        if (this.#db.get(['inv', enricher, id]) !== undefined) continue;
        const stored: StoredInvocation = {
          state: 'queued',
          input,
          attempts: 0,
          createdAt: now,
          updatedAt: now,
          dueAt: now,
        };
        this.#db.putSync(['inv', enricher, id], stored);
        this.#db.putSync(['due', enricher, now, id], null);
        added++;
      }
      this.#addCount(enricher, 'queued', added);
    });
    await this.#env.flushed();
    this.#added.emit('added', enricher);
  }

  async take(enricher: string, max: number, leaseMs: number): Promise<Claim[]> {
    if (max <= 0) return [];
    const now = this.#now();
    return this.#transaction(() => {
      const due = [
        ...this.#db.getKeys({ start: ['due', enricher], end: ['due', enricher, now + 1], limit: max }),
      ] as Key[];
      const claims: Claim[] = [];
      for (const key of due) {
        const id = key[3] as string;
        const stored = this.#db.get(['inv', enricher, id]) as StoredInvocation | undefined;
        this.#db.removeSync(key);
        // A key left behind by an older state (never written so, but cheap to rule out) is dropped.
        const stale =
          stored === undefined ||
          stored.dueAt !== key[2] ||
          stored.state === 'succeeded' ||
          stored.state === 'dead';
        if (stale) continue;
        const token = randomUUID();
        const next: StoredInvocation = {
          ...stored,
          state: 'running',
          attempts: stored.attempts + 1,
          updatedAt: now,
          dueAt: now + leaseMs,
          token,
        };
        this.#db.putSync(['inv', enricher, id], next);
        this.#db.putSync(['due', enricher, next.dueAt, id], null);
        if (stored.state !== 'running') this.#move(enricher, stored.state, 'running');
        claims.push({ invocation: toInvocation(enricher, id, next), token });
      }
      return claims;
    });
  }

  succeed(enricher: string, claim: Claim, result: unknown): Promise<boolean> {
    return this.#settle(enricher, claim, (stored, now) => {
      this.#db.putSync(['done', enricher, now, claim.invocation.id], null);
      return { ...withoutLease(stored), state: 'succeeded', updatedAt: now, result, error: undefined };
    });
  }

  retry(enricher: string, claim: Claim, error: InvocationError, runAt: number): Promise<boolean> {
    return this.#settle(enricher, claim, (stored, now) => {
      this.#db.putSync(['due', enricher, runAt, claim.invocation.id], null);
      return { ...withoutLease(stored), state: 'failed', updatedAt: now, dueAt: runAt, error };
    });
  }

  bury(enricher: string, claim: Claim, error: InvocationError): Promise<boolean> {
    return this.#settle(enricher, claim, (stored, now) => {
      this.#db.putSync(['dead', enricher, now, claim.invocation.id], null);
      return { ...withoutLease(stored), state: 'dead', updatedAt: now, error };
    });
  }

  async get(enricher: string, id: string): Promise<Invocation | undefined> {
    const stored = this.#db.get(['inv', enricher, id]) as StoredInvocation | undefined;
    return stored === undefined ? undefined : toInvocation(enricher, id, stored);
  }

  async counts(enricher: string): Promise<QueueCounts> {
    const count = (state: InvocationState): number =>
      (this.#db.get(['count', enricher, state]) as number) ?? 0;
    let oldestWaitingAt: number | undefined;
    // The due index is ordered by due time; the first waiting entry is close to the oldest one.
    for (const key of this.#db.getKeys({
      start: ['due', enricher],
      end: ['due', enricher, LATEST],
      limit: OLDEST_SCAN_LIMIT,
    })) {
      const stored = this.#db.get(['inv', enricher, (key as Key)[3] as string]) as
        StoredInvocation | undefined;
      if (stored === undefined || stored.state === 'running') continue;
      oldestWaitingAt = Math.min(oldestWaitingAt ?? Infinity, stored.createdAt);
      break;
    }
    return {
      queued: count('queued'),
      running: count('running'),
      failed: count('failed'),
      succeeded: count('succeeded'),
      dead: count('dead'),
      oldestWaitingAt,
    };
  }

  async dead(
    enricher: string,
    options: { readonly limit?: number; readonly after?: string } = {},
  ): Promise<Invocation[]> {
    const limit = options.limit ?? 100;
    let start: Key = ['dead', enricher];
    if (options.after !== undefined) {
      const after = this.#db.get(['inv', enricher, options.after]) as StoredInvocation | undefined;
      if (after !== undefined) start = ['dead', enricher, after.updatedAt, options.after];
    }
    const out: Invocation[] = [];
    for (const key of this.#db.getKeys({ start, end: ['dead', enricher, LATEST] })) {
      const id = (key as Key)[3] as string;
      if (options.after !== undefined && id === options.after) continue;
      const stored = this.#db.get(['inv', enricher, id]) as StoredInvocation | undefined;
      if (stored !== undefined) out.push(toInvocation(enricher, id, stored));
      if (out.length >= limit) break;
    }
    return out;
  }

  async replay(enricher: string, ids: readonly string[]): Promise<string[]> {
    const now = this.#now();
    const replayed = await this.#transaction(() => {
      const done: string[] = [];
      for (const id of ids) {
        const stored = this.#db.get(['inv', enricher, id]) as StoredInvocation | undefined;
        if (stored?.state !== 'dead') continue;
        this.#db.removeSync(['dead', enricher, stored.updatedAt, id]);
        const next: StoredInvocation = {
          ...stored,
          state: 'queued',
          attempts: 0,
          updatedAt: now,
          dueAt: now,
          error: undefined,
        };
        this.#db.putSync(['inv', enricher, id], next);
        this.#db.putSync(['due', enricher, now, id], null);
        this.#move(enricher, 'dead', 'queued');
        done.push(id);
      }
      return done;
    });
    await this.#env.flushed();
    if (replayed.length > 0) this.#added.emit('added', enricher);
    return replayed;
  }

  async purge(enricher: string, before: number): Promise<number> {
    return this.#transaction(() => {
      let removed = 0;
      for (const key of this.#db.getKeys({ start: ['done', enricher], end: ['done', enricher, before] })) {
        const id = (key as Key)[3] as string;
        this.#db.removeSync(key as Key);
        const stored = this.#db.get(['inv', enricher, id]) as StoredInvocation | undefined;
        if (stored?.state !== 'succeeded') continue;
        this.#db.removeSync(['inv', enricher, id]);
        removed++;
      }
      this.#addCount(enricher, 'succeeded', -removed);
      return removed;
    });
  }

  onAdded(listener: (enricher: string) => void): () => void {
    this.#added.on('added', listener);
    return () => this.#added.off('added', listener);
  }

  async close(): Promise<void> {
    // The environment belongs to the runtime, which closes it.
    this.#added.removeAllListeners();
  }

  /**
   * Applies `change` to a running invocation if `claim` still holds its lease. Settles asked for
   * in one event-loop turn share one write transaction (a commit costs far more than the few keys
   * each settle changes); each still sees its own outcome.
   */
  #settle(
    enricher: string,
    claim: Claim,
    change: (stored: StoredInvocation, now: number) => StoredInvocation,
  ): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#settles.push({ enricher, claim, change, resolve, reject });
      if (this.#settles.length === 1) setImmediate(() => void this.#flushSettles());
    });
  }

  async #flushSettles(): Promise<void> {
    const batch = this.#settles.splice(0);
    const now = this.#now();
    try {
      const outcomes = await this.#transaction(() =>
        batch.map(({ enricher, claim, change }) => {
          const id = claim.invocation.id;
          const stored = this.#db.get(['inv', enricher, id]) as StoredInvocation | undefined;
          if (stored?.state !== 'running' || stored.token !== claim.token) return false;
          this.#db.removeSync(['due', enricher, stored.dueAt, id]);
          const next = change(stored, now);
          this.#db.putSync(['inv', enricher, id], next);
          this.#move(enricher, 'running', next.state);
          return true;
        }),
      );
      batch.forEach((settle, i) => settle.resolve(outcomes[i] ?? false));
    } catch (err) {
      for (const settle of batch) settle.reject(err);
    }
  }

  #move(enricher: string, from: InvocationState, to: InvocationState): void {
    this.#addCount(enricher, from, -1);
    this.#addCount(enricher, to, 1);
  }

  #addCount(enricher: string, state: InvocationState, delta: number): void {
    if (delta === 0) return;
    const current = (this.#db.get(['count', enricher, state]) as number | undefined) ?? 0;
    this.#db.putSync(['count', enricher, state], Math.max(0, current + delta));
  }
}

function withoutLease(stored: StoredInvocation): StoredInvocation {
  const { token: _token, ...rest } = stored;
  return rest;
}

function toInvocation(enricher: string, id: string, stored: StoredInvocation): Invocation {
  return {
    id,
    enricher,
    state: stored.state,
    input: stored.input,
    attempts: stored.attempts,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
    ...(stored.result === undefined ? {} : { result: stored.result }),
    ...(stored.error === undefined ? {} : { error: stored.error }),
  };
}
