import { partitionKey } from '../model/keys.ts';
import type { EntityDef } from '../spec/types.ts';
import type { ActionRow, OnlineStore, RangeQuery } from '../store/online-store.ts';

/** What the loader reads from: the store, or the layered cache in front of it. */
export type FeatureReader = Pick<OnlineStore, 'getStatic' | 'getRanges'>;

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

/** Joined lookups of one entity type: every id asked, with the union of the features asked. */
interface JoinBatch {
  readonly entity: EntityDef;
  readonly features: Set<string>;
  readonly ids: Set<string>;
  readonly done: Pending<void>;
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
 * A new batch starts after each flush, so a later level of the query gets its own round trip.
 *
 * Joins: every joined entity asked for in one pass, across all rows, fields and parent entities,
 * is read in ONE `getStatic` call per joined entity type (the union of the static features the
 * query selects on it). The values read are kept for the request, so the joined entity's feature
 * resolvers answer from memory, synchronously, without another store call.
 */
export class RequestLoader {
  readonly #store: FeatureReader;
  #statics: StaticBatch | undefined;
  #ranges: RangeBatch | undefined;
  #joins: Map<string, JoinBatch> | undefined;
  /** Static values already read for this request (joined entities), by pk. */
  readonly #known = new Map<string, unknown>();
  /** Joined entities read for this request: entity name -> id -> has any value. */
  readonly #exists = new Map<string, Map<string, boolean>>();
  #scheduled = false;
  /** Action rows handed to resolvers (after filters and counts), for the served-rows metric. */
  rowsServed = 0;
  /** Feature values handed to resolvers: static values, action rows, on-demand values. */
  featuresServed = 0;

  constructor(store: FeatureReader) {
    this.#store = store;
  }

  /**
   * The stored value under `pk` (`StaticValue.value`), or null when absent or expired. A value
   * this request already read (a joined entity's) is returned as is, without a promise.
   */
  staticValue(pk: string): unknown {
    this.featuresServed++;
    const known = this.#known.get(pk);
    if (known !== undefined || this.#known.has(pk)) return known;
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

  /**
   * Reads the static `features` of joined entities `ids` of `entity`, batched with every other
   * prefetch of the same entity type asked in this pass (one store call per entity type; the
   * features read are the union asked). Afterwards `joinedExists` and `staticValue` answer from
   * memory.
   */
  prefetchJoined(entity: EntityDef, ids: readonly string[], features: readonly string[]): Promise<void> {
    let joins = this.#joins;
    if (joins === undefined) {
      joins = this.#joins = new Map();
      this.#schedule();
    }
    let batch = joins.get(entity.name);
    if (batch === undefined) {
      batch = { entity, features: new Set(features), ids: new Set(ids), done: pending<void>() };
      joins.set(entity.name, batch);
      return batch.done.promise;
    }
    for (const f of features) batch.features.add(f);
    for (const id of ids) batch.ids.add(id);
    return batch.done.promise;
  }

  /**
   * Whether joined entity `id` exists (any feature read for it has a value); undefined when it was
   * never prefetched in this request.
   */
  joinedExists(entity: EntityDef, id: string): boolean | undefined {
    return this.#exists.get(entity.name)?.get(id);
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
    const joins = this.#joins;
    this.#statics = undefined;
    this.#ranges = undefined;
    this.#joins = undefined;
    if (statics !== undefined) void this.#flushStatics(statics);
    if (ranges !== undefined) void this.#flushRanges(ranges);
    if (joins !== undefined) for (const batch of joins.values()) void this.#flushJoins(batch);
  };

  async #flushJoins(batch: JoinBatch): Promise<void> {
    const { entity, ids, done } = batch;
    const features = [...batch.features];
    const f = features.length;
    const pks: string[] = new Array<string>(ids.size * f);
    let k = 0;
    for (const id of ids) for (let j = 0; j < f; j++) pks[k++] = partitionKey(entity, id, features[j]!);
    try {
      const values = pks.length === 0 ? [] : await this.#store.getStatic(pks);
      let exists = this.#exists.get(entity.name);
      if (exists === undefined) this.#exists.set(entity.name, (exists = new Map()));
      k = 0;
      for (const id of ids) {
        let found = exists.get(id) === true;
        for (let j = 0; j < f; j++, k++) {
          const stored = values[k];
          this.#known.set(pks[k]!, stored === undefined ? null : stored.value);
          if (stored !== undefined) found = true;
        }
        // An entity type without static features cannot be checked; it is served as is.
        exists.set(id, found || f === 0);
      }
      done.resolve();
    } catch (err) {
      done.reject(err);
    }
  }

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
