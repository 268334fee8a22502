/**
 * The two kinds of read the layered store serves, described once each so that its cascade (local,
 * then Redis, then the store) is written once for both:
 *
 * - static reads: one value per partition key; a level's hit is the whole cached entry;
 * - range reads: rows of a partition key (count, time bounds); a level caches the key's complete
 *   row list, and a hit holds only the rows the lookup asked for.
 */
import type { CachePolicy, FeatureDef } from '../registry/types.ts';
import type { ActionRow, OnlineStore, RangeQuery, StaticValue } from '../store/online-store.ts';
import type {
  EntryFreshness,
  FillEntry,
  LevelReadRequest,
  LevelReadResult,
  RangeHit,
  RangeLookup,
  StaticHit,
} from './cache-level.ts';
import { lifetimeFor } from './cache-policy.ts';
import { selectRows } from './row-order.ts';
import { BatchSingleFlight } from './single-flight.ts';

/** How a cached key goes through the levels: its group, the group's policy, the levels that hold it. */
export interface KeyRoute {
  readonly def: FeatureDef;
  readonly policy: CachePolicy;
  readonly local: boolean;
  readonly redis: boolean;
}

/** A partition key with its route. */
export interface RoutedKey {
  readonly pk: string;
  readonly route: KeyRoute;
}

/**
 * What differs between static and range reads. `Q` is what a caller asks, `L` what a level is
 * asked, `H` a level's hit and `V` the answer (for a key the store loads, its complete entry).
 */
export interface ReadKind<Q, L, H extends EntryFreshness, V> {
  readonly featureType: FeatureDef['featureType'];
  /** Concurrent loads of the same key from the store share one read. */
  readonly flight: BatchSingleFlight<V>;
  /** False when a hit holds only what its lookup asked, so a back-fill needs the complete entry. */
  readonly hitIsComplete: boolean;
  pkOf(query: Q): string;
  /** What the levels are asked for `query`; undefined sends the query straight to the store. */
  lookupOf(query: Q, def: FeatureDef, now: number): L | undefined;
  /** The lookup that reads a key's complete entry from a level. */
  completeLookupOf(key: RoutedKey): L;
  request(lookups: readonly L[]): LevelReadRequest;
  hitsOf(result: LevelReadResult): readonly (H | undefined)[];
  answerOfHit(hit: H): V;
  /** The answer to `lookup` from the complete entry loaded from the store. */
  answerOfEntry(entry: V | undefined, lookup: L): V;
  /** The answer of a query read straight from the store. */
  answerOfDirect(value: V | undefined): V;
  readDirect(store: OnlineStore, queries: readonly Q[]): Promise<V[]>;
  /** Reads the complete entries of `keys` from the store. */
  readEntries(store: OnlineStore, keys: readonly RoutedKey[]): Promise<V[]>;
  /** The level entry for an entry loaded from the store; undefined when it is not to be cached. */
  entryFromStore(
    key: RoutedKey,
    lease: string,
    entry: V | undefined,
    now: number,
    loadMs: number,
  ): FillEntry | undefined;
  /** A local back-fill of a complete Redis hit; it keeps the Redis entry's freshness. */
  entryFromLevel(key: RoutedKey, lease: string, hit: H, now: number): FillEntry | undefined;
}

export type StaticReads = ReadKind<string, string, StaticHit, StaticValue | undefined>;
export type RangeReads = ReadKind<RangeQuery, RangeLookup, RangeHit, ActionRow[]>;

/** Static reads; each layered store has its own, for its own single flight. */
export function staticReads(): StaticReads {
  return {
    featureType: 'static',
    flight: new BatchSingleFlight(),
    hitIsComplete: true,
    pkOf: (pk) => pk,
    lookupOf: (pk) => pk,
    completeLookupOf: ({ pk }) => pk,
    request: (statics) => ({ statics, ranges: [] }),
    hitsOf: (result) => result.statics,
    answerOfHit: (hit) => hit.value,
    answerOfEntry: (entry) => entry,
    answerOfDirect: (value) => value,
    readDirect: (store, pks) => store.getStatic(pks),
    readEntries: (store, keys) => store.getStatic(keys.map((key) => key.pk)),
    entryFromStore({ pk, route }, lease, value, now, loadMs) {
      if (value === undefined && route.policy.negativeTtlMs === 0) return undefined;
      const life = lifetimeFor(route.policy, route.def, now, loadMs, value === undefined, value);
      return life.expiresAt > now ? { kind: 'static', pk, lease, value, life } : undefined;
    },
    entryFromLevel({ pk, route }, lease, hit, now) {
      const own = lifetimeFor(route.policy, route.def, now, hit.loadMs, hit.value === undefined, hit.value);
      if (hit.value === undefined && route.policy.negativeTtlMs === 0) return undefined;
      const life = { ...own, softExpiresAt: Math.min(own.softExpiresAt, hit.softExpiresAt) };
      return { kind: 'static', pk, lease, value: hit.value, life };
    },
  };
}

/**
 * Range reads. A query asking more rows than the group keeps (or none) goes straight to the store.
 * The store is read for the complete list (all it keeps, at most `maxCount`), so any later
 * count/lastNSec can be answered from the cache exactly as the store would.
 */
export function rangeReads(): RangeReads {
  return {
    featureType: 'action',
    flight: new BatchSingleFlight(),
    hitIsComplete: false,
    pkOf: (query) => query.pk,
    lookupOf: (query, def, now) =>
      query.count > 0 && query.count <= def.maxCount ? lookupOf(query, def, now) : undefined,
    completeLookupOf: ({ pk, route }) => ({
      pk,
      count: route.def.maxCount,
      minTs: -Infinity,
      expiredAtOrBefore: -Infinity,
    }),
    request: (ranges) => ({ statics: [], ranges }),
    hitsOf: (result) => result.ranges,
    answerOfHit: (hit) => hit.rows,
    answerOfEntry: (rows, lookup) =>
      selectRows(rows ?? [], lookup.count, lookup.minTs, lookup.expiredAtOrBefore),
    answerOfDirect: (rows) => rows ?? [],
    readDirect: (store, queries) => store.getRanges(queries),
    readEntries: (store, keys) =>
      store.getRanges(keys.map(({ pk, route }) => ({ pk, count: route.def.maxCount, lastNSec: undefined }))),
    entryFromStore({ pk, route }, lease, list, now, loadMs) {
      const rows = list ?? [];
      if (rows.length === 0 && route.policy.negativeTtlMs === 0) return undefined;
      const life = lifetimeFor(route.policy, route.def, now, loadMs, rows.length === 0);
      return { kind: 'action', pk, lease, rows, maxCount: route.def.maxCount, life };
    },
    entryFromLevel({ pk, route }, lease, hit, now) {
      const own = lifetimeFor(route.policy, route.def, now, hit.loadMs, hit.rows.length === 0);
      const life = { ...own, softExpiresAt: Math.min(own.softExpiresAt, hit.softExpiresAt) };
      return { kind: 'action', pk, lease, rows: hit.rows, maxCount: route.def.maxCount, life };
    },
  };
}

function lookupOf(q: RangeQuery, def: FeatureDef, now: number): RangeLookup {
  return {
    pk: q.pk,
    count: q.count,
    minTs: q.lastNSec === undefined ? -Infinity : now - q.lastNSec * 1000,
    expiredAtOrBefore: def.ttlMs === undefined ? -Infinity : now - def.ttlMs,
  };
}
