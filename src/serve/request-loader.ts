import type { ActionRow, OnlineStore, RangeQuery } from '../store/online-store.ts';

/** A pending read: the promise handed to every resolver asking for the same key, and its settlers. */
interface Pending<T> {
  readonly promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

function pending<T>(): Pending<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One batch of static reads: unique pks in first-asked order. */
interface StaticBatch {
  readonly pks: string[];
  readonly waiting: Map<string, Pending<unknown>>;
}

/** One batch of range reads: unique queries in first-asked order. */
interface RangeBatch {
  readonly queries: RangeQuery[];
  readonly waiting: Map<string, Pending<ActionRow[]>>;
}

const resolvedPromise = Promise.resolve();

/**
 * Per-request read batching. Resolvers ask for single keys; every read asked for during one
 * synchronous pass of GraphQL execution (plus the promise jobs it queued) goes to the store in ONE
 * `getStatic` call and ONE `getRanges` call. Identical keys are read once and share one promise.
 *
 * The flush is scheduled like DataLoader's: after the promise jobs already queued, then on the next
 * tick. So resolvers of sibling fields that resolve through a microtask still join the same batch,
 * while the request pays no timer or I/O-phase delay.
 *
 * A new batch starts after each flush, so a later level of the query (joined entities, for example)
 * gets its own single round trip.
 */
export class RequestLoader {
  readonly #store: OnlineStore;
  #statics: StaticBatch | undefined;
  #ranges: RangeBatch | undefined;
  #scheduled = false;

  constructor(store: OnlineStore) {
    this.#store = store;
  }

  /** The stored value under `pk` (`StaticValue.value`), or null when absent or expired. */
  staticValue(pk: string): Promise<unknown> {
    let batch = this.#statics;
    if (batch === undefined) {
      batch = this.#statics = { pks: [], waiting: new Map() };
      this.#schedule();
    } else {
      const existing = batch.waiting.get(pk);
      if (existing !== undefined) return existing.promise;
    }
    const p = pending<unknown>();
    batch.waiting.set(pk, p);
    batch.pks.push(pk);
    return p.promise;
  }

  /** Newest-first rows under `pk`: at most `count`, only the last `lastNSec` seconds when given. */
  range(pk: string, count: number, lastNSec: number | undefined): Promise<ActionRow[]> {
    const key = lastNSec === undefined ? `${count}|${pk}` : `${count}|${lastNSec}|${pk}`;
    let batch = this.#ranges;
    if (batch === undefined) {
      batch = this.#ranges = { queries: [], waiting: new Map() };
      this.#schedule();
    } else {
      const existing = batch.waiting.get(key);
      if (existing !== undefined) return existing.promise;
    }
    const p = pending<ActionRow[]>();
    batch.waiting.set(key, p);
    batch.queries.push({ pk, count, lastNSec });
    return p.promise;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    void resolvedPromise.then(() => process.nextTick(this.#flush));
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const statics = this.#statics;
    const ranges = this.#ranges;
    this.#statics = undefined;
    this.#ranges = undefined;
    if (statics !== undefined) void this.#flushStatics(statics);
    if (ranges !== undefined) void this.#flushRanges(ranges);
  };

  async #flushStatics(batch: StaticBatch): Promise<void> {
    const { pks, waiting } = batch;
    try {
      const values = await this.#store.getStatic(pks);
      for (let i = 0; i < pks.length; i++) {
        // pks are unique within a batch, so each has exactly one waiter.
        waiting.get(pks[i]!)!.resolve(values[i]?.value ?? null);
      }
    } catch (err) {
      for (const p of waiting.values()) p.reject(err);
    }
  }

  async #flushRanges(batch: RangeBatch): Promise<void> {
    const { queries, waiting } = batch;
    try {
      const results = await this.#store.getRanges(queries);
      let i = 0;
      // Map iteration follows insertion order, which is the order of `queries`.
      for (const p of waiting.values()) p.resolve(results[i++] ?? []);
    } catch (err) {
      for (const p of waiting.values()) p.reject(err);
    }
  }
}
