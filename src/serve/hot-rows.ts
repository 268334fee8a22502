import { jittered } from '../cache/cache-policy.ts';
import type { ActionRow } from '../store/online-store.ts';
import { sameValue } from './hot-entities.ts';

/**
 * An in-process cache of action rows as read (newest first), per partition key and count: the
 * rows half of the serving path's hot cache (`hot-entities.ts` is the entities half). A Profile
 * read asks for two lists of 50 rows; served from here they are the same row objects as last
 * time, so the fast path serves the text it kept with them (`fast-path/kept-texts.ts`) instead
 * of reading, decoding and writing 100 rows again.
 *
 * Freshness, the same contract as the hot entity cache: a write through this process's layered
 * store drops the pk's lists at once (`forget`, wired by `createServer`), and a read that started
 * before such a write never stores its result. Writes by other processes are served after at
 * most `ttlMs`. A list never outlives its oldest row's own TTL (`rowTtlMs`), and a `lastNSec`
 * read is the cached list cut to the window, which is what the store answers.
 *
 * Bounded by the rows held (`maxRows`): the lists stored longest ago go first.
 */
export interface HotRowOptions {
  /** How long a list is served, ms. 0 turns the cache off. */
  readonly ttlMs: number;
  /** Rows kept in all. Default 1,000,000. */
  readonly maxRows?: number;
  /** The clock entries expire by, ms. Default `Date.now`. */
  readonly now?: () => number;
}

interface HeldList {
  readonly count: number;
  readonly rows: readonly ActionRow[];
  expiresAt: number;
}

const FORGET_WINDOW_MS = 5_000;
/**
 * Forgets remembered at most: past it (a burst of writes, e.g. another process's backfill told
 * through Redis), everything is forgotten at once instead, which keeps the same guarantee.
 */
const MAX_FORGOTTEN = 100_000;
/** Lists filled together (a warm-up) expire spread over the last 15% of the TTL. */
const TTL_JITTER = 0.15;

/**
 * The rows of a newest-first list within the last `lastNSec` seconds at `now`, as the store cuts
 * them: rows at exactly `now - lastNSec` s are in (lmdb-rows.ts `readRange`).
 */
export function withinWindow(
  rows: readonly ActionRow[],
  lastNSec: number,
  now: number,
): readonly ActionRow[] {
  const minTs = now - lastNSec * 1000;
  let n = 0;
  while (n < rows.length && rows[n]!.ts >= minTs) n++;
  return n === rows.length ? rows : rows.slice(0, n);
}

export class HotRowCache {
  readonly ttlMs: number;
  readonly now: () => number;
  readonly #maxRows: number;
  /** pk -> its lists (one per count asked, usually one); Map order is fill order, oldest first. */
  readonly #byPk = new Map<string, HeldList[]>();
  #rows = 0;
  #epoch = 0;
  /** The epoch of the last `forgetAll`: reads that started before it store nothing. */
  #clearedEpoch = 0;
  readonly #forgotten = new Map<string, { readonly epoch: number; readonly at: number }>();

  constructor(options: HotRowOptions) {
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
    this.#maxRows = options.maxRows ?? 1_000_000;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** Rows held in all (for tests and metrics). */
  get size(): number {
    return this.#rows;
  }

  /** The current epoch: pass it to `set` for a read that starts now. */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * The newest `count` live rows of `pk` (within `lastNSec` when given), or undefined on a miss.
   * The array and rows are shared: never modify them.
   */
  get(
    pk: string,
    count: number,
    lastNSec: number | undefined,
    now: number,
  ): readonly ActionRow[] | undefined {
    const lists = this.#byPk.get(pk);
    if (lists === undefined) return undefined;
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i]!;
      if (list.count !== count) continue;
      if (list.expiresAt <= now) return undefined;
      return lastNSec === undefined ? list.rows : withinWindow(list.rows, lastNSec, now);
    }
    return undefined;
  }

  /**
   * Stores the rows a read without `lastNSec` returned for (`pk`, `count`), unless the pk was
   * forgotten after `readEpoch`. `rowTtlMs`: the feature's row TTL, so no row is served past it.
   * Returns the rows to serve: when the list held has the same rows (the common refresh after a
   * TTL), the held rows, whose life is extended instead (their kept text stays, and a refresh
   * creates nothing long-lived); else the rows given, or undefined when not stored.
   */
  set(
    pk: string,
    count: number,
    rows: readonly ActionRow[],
    now: number,
    readEpoch: number,
    rowTtlMs: number | undefined,
  ): readonly ActionRow[] | undefined {
    if (readEpoch < this.#clearedEpoch) return undefined;
    if (this.#forgotten.size > 0 && (this.#forgotten.get(pk)?.epoch ?? 0) > readEpoch) return undefined;
    let expiresAt = now + jittered(this.ttlMs, TTL_JITTER);
    if (rowTtlMs !== undefined) for (const row of rows) expiresAt = Math.min(expiresAt, row.ts + rowTtlMs);
    if (expiresAt <= now) return undefined;
    let lists = this.#byPk.get(pk);
    if (lists === undefined) lists = [];
    else {
      const same = lists.find((l) => l.count === count && sameRows(l.rows, rows));
      if (same !== undefined) {
        same.expiresAt = expiresAt;
        // Re-inserted: Map order stays fill order for eviction.
        this.#byPk.delete(pk);
        this.#byPk.set(pk, lists);
        return same.rows;
      }
      // Re-inserted below so that Map order stays fill order.
      this.#byPk.delete(pk);
      lists = lists.filter((l) => {
        if (l.count !== count) return true;
        this.#rows -= l.rows.length;
        return false;
      });
    }
    lists.push({ count, rows, expiresAt });
    this.#rows += rows.length;
    this.#byPk.set(pk, lists);
    this.#evict();
    return rows;
  }

  /** Forgets every list of `pk` (after a write to it in this process). */
  forget(pk: string, now = this.now()): void {
    const lists = this.#byPk.get(pk);
    if (lists !== undefined) {
      for (const l of lists) this.#rows -= l.rows.length;
      this.#byPk.delete(pk);
    }
    // Re-inserted so the map stays oldest-first; reads time out long before 5 s.
    this.#forgotten.delete(pk);
    if (this.#forgotten.size >= MAX_FORGOTTEN) {
      this.#forgotten.clear();
      this.forgetAll();
      return;
    }
    this.#forgotten.set(pk, { epoch: ++this.#epoch, at: now });
    for (const [old, f] of this.#forgotten) {
      if (now - f.at <= FORGET_WINDOW_MS) break;
      this.#forgotten.delete(old);
    }
  }

  /**
   * Forgets every list (writes this process cannot name key by key: a batch job's task threads);
   * a read that started before keeps its result out.
   */
  forgetAll(): void {
    this.#byPk.clear();
    this.#rows = 0;
    this.#clearedEpoch = ++this.#epoch;
  }

  /** Drops the lists stored longest ago until the rows held are within the bound. */
  #evict(): void {
    if (this.#rows <= this.#maxRows) return;
    // A tenth at once, so a scan of new keys does not evict on every store.
    const target = Math.floor(this.#maxRows * 0.9);
    for (const [pk, lists] of this.#byPk) {
      for (const l of lists) this.#rows -= l.rows.length;
      this.#byPk.delete(pk);
      if (this.#rows <= target) break;
    }
  }
}

/** Whether two lists hold the same rows: the same events, at the same times, with the same values. */
function sameRows(a: readonly ActionRow[], b: readonly ActionRow[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.ts !== y.ts || x.eventId !== y.eventId) return false;
    const keys = Object.keys(y.values);
    if (Object.keys(x.values).length !== keys.length) return false;
    for (const key of keys) if (!sameValue(x.values[key], y.values[key])) return false;
  }
  return true;
}
