import { partitionKey } from '../keys/keys.ts';
import type { EntityDef } from '../registry/types.ts';
import type { ActionRow, OnlineStore, RangeQuery, StaticValue } from '../store/online-store.ts';
import type { ActionRead } from './action-read.ts';
import type { EntityObject } from './entity-object.ts';
import type { HotEntityCache, HotEntry } from './hot-entities.ts';
import { withinWindow, type HotRowCache } from './hot-rows.ts';
import { applyRowFilter } from './row-filter.ts';

/** What the loader reads from: the store, or the layered cache in front of it. */
export type FeatureReader = Pick<OnlineStore, 'getStatic' | 'getRanges'>;

/**
 * A reader whose every read fails with `error`: after the fast path's read failed, the full
 * executor reports that failure as GraphQL errors without reading again (no retry storm on a
 * failing store).
 */
export function failedReader(error: unknown): FeatureReader {
  return {
    getStatic: () => Promise.reject(error),
    getRanges: () => Promise.reject(error),
  };
}

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

/** A pending range read, and how many asks serve its rows as read (unfiltered), to count them. */
interface RangeRead extends Pending<ActionRow[]> {
  servedAsRead: number;
}

function rangeRead(): RangeRead {
  let resolve!: (value: ActionRow[]) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<ActionRow[]>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, servedAsRead: 0 };
}

/** One batch of static reads: unique pks in first-asked order. */
interface StaticBatch {
  readonly pks: string[];
  readonly waiting: Map<string, Pending<unknown>>;
}

/** One batch of range reads: unique queries in first-asked order (with their feature's row TTL). */
interface RangeBatch {
  readonly queries: RangeQuery[];
  readonly rowTtls: (number | undefined)[];
  readonly waiting: Map<string, RangeRead>;
}

/** An entity of this request; `shared` when the object is also in the hot cache (copy before changing). */
interface LoadedEntity {
  readonly object: EntityObject;
  found: boolean;
  shared: boolean;
  /** The hot cache entry holding `object`, if any. */
  hotEntry?: HotEntry | undefined;
}

/**
 * Entity loads of one entity type: each id asked, with the features asked for it (the array a
 * resolver passed, shared; a Set once two different asks for the same id must be merged).
 */
interface EntityBatch {
  readonly entity: EntityDef;
  readonly wanted: Map<string, readonly string[] | Set<string>>;
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
 * Entities: the static features of entities (root ones, and joined ones across all rows, fields
 * and parents) asked in one pass are read in ONE `getStatic` call per entity type, and handed to
 * GraphQL as plain objects (`EntityObject`), so every static field resolves by property access.
 */
export class RequestLoader {
  readonly #store: FeatureReader;
  #statics: StaticBatch | undefined;
  #ranges: RangeBatch | undefined;
  #entityBatches: Map<string, EntityBatch> | undefined;
  /** Entities read for this request: entity name -> id -> the entity and whether any value exists. */
  readonly #entities = new Map<string, Map<string, LoadedEntity>>();
  /** The process-wide hot entity cache, when on. */
  readonly #hot: HotEntityCache | undefined;
  /** The process-wide hot row cache, when on. */
  readonly #hotRows: HotRowCache | undefined;
  /** The request's time on the hot cache's clock, read once. */
  #now: number | undefined;
  #scheduled = false;
  #rowsServed = 0;
  #featuresServed = 0;
  #hotHits = 0;
  #hotMisses = 0;
  #hotRowHits = 0;
  #hotRowMisses = 0;
  #readFailure: { readonly error: unknown } | undefined;

  constructor(store: FeatureReader, hot?: HotEntityCache, hotRows?: HotRowCache) {
    this.#store = store;
    this.#hot = hot?.enabled === true ? hot : undefined;
    this.#hotRows = hotRows?.enabled === true ? hotRows : undefined;
  }

  /**
   * Action rows handed out (after filters and counts), for the served-rows metric. Counted here
   * only, for every caller: the resolvers and the fast path.
   */
  get rowsServed(): number {
    return this.#rowsServed;
  }

  /** Feature values handed out: static values, action rows, on-demand values. */
  get featuresServed(): number {
    return this.#featuresServed;
  }

  /** Entity lookups answered by the hot entity cache, for the hit-ratio metric. */
  get hotHits(): number {
    return this.#hotHits;
  }

  /** Entity lookups the hot entity cache could not answer. */
  get hotMisses(): number {
    return this.#hotMisses;
  }

  /** Row lists answered by the hot row cache, for the hit-ratio metric. */
  get hotRowHits(): number {
    return this.#hotRowHits;
  }

  /** Row lists the hot row cache could not answer. */
  get hotRowMisses(): number {
    return this.#hotRowMisses;
  }

  /**
   * The first error a read of this request failed with: after the fast path's read failed, the
   * full executor reports it (`failedReader`) instead of reading again.
   */
  get readFailure(): { readonly error: unknown } | undefined {
    return this.#readFailure;
  }

  /** Counts one on-demand value handed out (read by the on-demand loader, not by this one). */
  countOnDemandValue(): void {
    this.#featuresServed++;
  }

  /** The stored value under `pk` (`StaticValue.value`), or null when absent or expired. */
  staticValue(pk: string): Promise<unknown> {
    this.#featuresServed++;
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

  /**
   * The newest-first rows under `pk` that `read` asks for: at most `read.count`, within
   * `read.lastNSec` when given; with a filter, up to `maxCount` rows are read, filtered, and the
   * newest `read.count` kept. The rows are counted as served. Identical unfiltered reads share
   * one promise. `rowTtlMs`: the feature's row TTL (the hot row cache never serves a row past it).
   * The rows are shared (hot row cache): never modify the array or its rows.
   */
  actionRows(pk: string, read: ActionRead, maxCount: number, rowTtlMs?: number): Promise<ActionRow[]> {
    const predicate = read.predicate;
    if (predicate === undefined) {
      const unfiltered = this.#range(pk, read.count, read.lastNSec, rowTtlMs);
      unfiltered.servedAsRead++;
      return unfiltered.promise;
    }
    return this.#range(pk, maxCount, read.lastNSec, rowTtlMs).promise.then((rows) => {
      const kept = applyRowFilter(rows, predicate, read.count);
      this.#rowsServed += kept.length;
      this.#featuresServed += kept.length;
      return kept;
    });
  }

  #range(pk: string, count: number, lastNSec: number | undefined, rowTtlMs: number | undefined): RangeRead {
    const key = lastNSec === undefined ? `${count}|${pk}` : `${count}|${lastNSec}|${pk}`;
    let batch = this.#ranges;
    if (batch === undefined) {
      batch = this.#ranges = { queries: [], rowTtls: [], waiting: new Map() };
      this.#schedule();
    } else {
      const existing = batch.waiting.get(key);
      if (existing !== undefined) return existing;
    }
    const read = rangeRead();
    batch.waiting.set(key, read);
    batch.queries.push({ pk, count, lastNSec });
    batch.rowTtls.push(rowTtlMs);
    return read;
  }

  /**
   * Reads the static `features` of entities `ids`, batched with every other entity load asked in
   * this pass: ONE `getStatic` call for all of them (so at most one per entity type; per type,
   * the features read are the union asked), whether the entities are root entities or joined
   * ones, across all rows and fields. Afterwards `entityObject` and `joinedEntity` answer from
   * memory.
   */
  loadEntities(entity: EntityDef, ids: readonly string[], features: readonly string[]): Promise<void> {
    const hot = this.#hot;
    let loaded: Map<string, LoadedEntity> | undefined;
    let batch: EntityBatch | undefined;
    for (const id of ids) {
      if (hot !== undefined) {
        this.#now ??= hot.now();
        const cached = hot.get(entity.name, id, features, this.#now);
        if (cached === undefined) this.#hotMisses++;
        else {
          this.#hotHits++;
          loaded ??= this.#loadedOf(entity.name);
          if (!loaded.has(id))
            loaded.set(id, { object: cached.object, found: cached.found, shared: true, hotEntry: cached });
          continue;
        }
      }
      batch ??= this.#entityBatch(entity);
      const wanted = batch.wanted;
      const previous = wanted.get(id);
      if (previous === undefined) wanted.set(id, features);
      else if (previous !== features) {
        const merged = previous instanceof Set ? previous : new Set(previous);
        for (const f of features) merged.add(f);
        wanted.set(id, merged);
      }
    }
    return batch === undefined ? resolvedPromise : batch.done.promise;
  }

  #entityBatch(entity: EntityDef): EntityBatch {
    let batches = this.#entityBatches;
    if (batches === undefined) {
      batches = this.#entityBatches = new Map();
      this.#schedule();
    }
    let batch = batches.get(entity.name);
    if (batch === undefined) {
      batch = { entity, wanted: new Map(), done: pending<void>() };
      batches.set(entity.name, batch);
    }
    return batch;
  }

  #loadedOf(entity: string): Map<string, LoadedEntity> {
    let loaded = this.#entities.get(entity);
    if (loaded === undefined) this.#entities.set(entity, (loaded = new Map()));
    return loaded;
  }

  /** A loaded entity (a root entity: its features are null where absent). */
  entityObject(entity: EntityDef, id: string): EntityObject {
    return this.#entities.get(entity.name)?.get(id)?.object ?? { id };
  }

  /** A loaded joined entity, or null when none of the features read has a value (a missing entity). */
  joinedEntity(entity: EntityDef, id: string): EntityObject | null {
    const loaded = this.#entities.get(entity.name)?.get(id);
    return loaded !== undefined && loaded.found ? loaded.object : null;
  }

  /** The hot cache entry a loaded entity was served from or stored into, if any. */
  hotEntryOf(entity: EntityDef, id: string): HotEntry | undefined {
    if (this.#hot === undefined) return undefined;
    return this.#entities.get(entity.name)?.get(id)?.hotEntry;
  }

  /**
   * Whether `entry`, kept from an earlier request, is still what the hot cache would answer:
   * then the caller serves its object without a lookup (and counts it with `countHotHits`).
   */
  isHotEntryCurrent(entry: HotEntry): boolean {
    const hot = this.#hot;
    if (hot === undefined) return false;
    this.#now ??= hot.now();
    return hot.isCurrent(entry, this.#now);
  }

  /** Counts entities served from hot entries the caller held (`isHotEntryCurrent`). */
  countHotHits(n: number): void {
    this.#hotHits += n;
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
    const entities = this.#entityBatches;
    this.#statics = undefined;
    this.#ranges = undefined;
    this.#entityBatches = undefined;
    if (statics !== undefined) void this.#flushStatics(statics);
    if (ranges !== undefined) void this.#flushRanges(ranges);
    if (entities !== undefined) void this.#flushEntities([...entities.values()]);
  };

  /** One `getStatic` call for every entity batch of the pass (one per entity type). */
  async #flushEntities(batches: readonly EntityBatch[]): Promise<void> {
    const pks: string[] = [];
    const slices = batches.map((batch) => {
      const start = pks.length;
      for (const [id, features] of batch.wanted) {
        for (const feature of features) pks.push(partitionKey(batch.entity, id, feature));
      }
      return { batch, start };
    });
    // Remembered before reading: a write (forget) during the read keeps its result out of the hot cache.
    const epoch = this.#hot?.epoch ?? 0;
    try {
      const values = pks.length === 0 ? [] : await this.#store.getStatic(pks);
      for (const { batch, start } of slices) this.#settle(batch, values, start, epoch);
      this.#featuresServed += pks.length;
      for (const { batch } of slices) batch.done.resolve();
    } catch (err) {
      this.#readFailure ??= { error: err };
      for (const { batch } of slices) batch.done.reject(err);
    }
  }

  /** Puts the values read for one entity batch (from `values[start]` on) into its entity objects. */
  #settle(
    batch: EntityBatch,
    values: readonly (StaticValue | undefined)[],
    start: number,
    epoch: number,
  ): void {
    const loaded = this.#loadedOf(batch.entity.name);
    const hot = this.#hot;
    let k = start;
    for (const [id, features] of batch.wanted) {
      let entry = loaded.get(id);
      if (entry === undefined) loaded.set(id, (entry = { object: { id }, found: false, shared: false }));
      else if (entry.shared) {
        // Never modify an object other requests may hold: copy it first.
        entry = { object: { ...entry.object }, found: entry.found, shared: false };
        loaded.set(id, entry);
      }
      const object = entry.object as Record<string, unknown>;
      let read = 0;
      for (const feature of features) {
        const stored = values[k++];
        read++;
        if (stored === undefined) object[feature] = null;
        else {
          object[feature] = stored.value;
          entry.found = true;
        }
      }
      // An entity type without static features cannot be checked; it is served as is.
      if (read === 0) entry.found = true;
      if (hot !== undefined) {
        this.#now ??= hot.now();
        const held = hot.set(batch.entity.name, entry.object, entry.found, this.#now, epoch);
        // A refresh that read the same values keeps the held entry: serve its object (and the
        // text kept with it).
        if (held !== undefined && held.object !== entry.object)
          loaded.set(id, (entry = { object: held.object, found: held.found, shared: true }));
        entry.hotEntry = held;
        entry.shared = true;
      }
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
      this.#readFailure ??= { error: err };
      for (const p of waiting.values()) p.reject(err);
    }
  }

  async #flushRanges(batch: RangeBatch): Promise<void> {
    const { queries, waiting } = batch;
    try {
      const results =
        this.#hotRows === undefined
          ? await this.#store.getRanges(queries)
          : await this.#hotRanges(batch, this.#hotRows);
      let i = 0;
      // Map iteration follows insertion order, which is the order of `queries`.
      for (const read of waiting.values()) {
        const rows = results[i++] ?? [];
        this.#rowsServed += rows.length * read.servedAsRead;
        this.#featuresServed += rows.length * read.servedAsRead;
        read.resolve(rows);
      }
    } catch (err) {
      this.#readFailure ??= { error: err };
      for (const p of waiting.values()) p.reject(err);
    }
  }

  /**
   * The batch's rows through the hot row cache: hits from it, misses read from the store
   * without their `lastNSec` (the list the cache keeps), stored, then cut to the window.
   */
  async #hotRanges(batch: RangeBatch, hotRows: HotRowCache): Promise<ActionRow[][]> {
    const now = (this.#now ??= hotRows.now());
    const { queries, rowTtls } = batch;
    const results = new Array<ActionRow[]>(queries.length);
    let misses: number[] | undefined;
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i]!;
      const hit = hotRows.get(q.pk, q.count, q.lastNSec, now);
      if (hit !== undefined) results[i] = hit as ActionRow[];
      else (misses ??= []).push(i);
    }
    this.#hotRowMisses += misses?.length ?? 0;
    this.#hotRowHits += queries.length - (misses?.length ?? 0);
    if (misses === undefined) return results;
    // Remembered before reading: a write (forget) during the read keeps its result out.
    const epoch = hotRows.epoch;
    const read = await this.#store.getRanges(
      misses.map((i) => ({ pk: queries[i]!.pk, count: queries[i]!.count, lastNSec: undefined })),
    );
    for (let m = 0; m < misses.length; m++) {
      const i = misses[m]!;
      const q = queries[i]!;
      const rows = read[m] ?? [];
      // A refresh that read the same rows gets the held ones back (with the text kept with them).
      const held = hotRows.set(q.pk, q.count, rows, now, epoch, rowTtls[i]) ?? rows;
      results[i] = (q.lastNSec === undefined ? held : withinWindow(held, q.lastNSec, now)) as ActionRow[];
    }
    return results;
  }
}
