/**
 * The `CacheLevel` contract: one level of the layered read path (the in-process LRU, Redis). The
 * layered store (`layered-store.ts`) walks the levels nearest first; each level answers what it
 * holds, and the rest falls through.
 *
 * What a level holds, per partition key:
 * - a static group: the store's `StaticValue`, or a negative entry ("the store has no value");
 * - an action group: the pk's COMPLETE row list as the store holds it (at most `maxCount` rows),
 *   so the level can answer any `count` / `lastNSec` exactly as the store would. A partial list
 *   is never cached; an empty list is the negative entry.
 *
 * No stale fill: before a miss is loaded from below, the level hands out a lease per pk
 * (`lease`). A write to the pk (`apply`) revokes the lease, and a fill (`fill`) lands only while
 * its lease still holds, checked atomically with the store (a Lua script in Redis). Since writes
 * reach the levels only after the store made them durable, a fill that read the store before a
 * write either lands before that write's `apply` (which then updates or drops it) or is refused.
 *
 * Failures: a level that cannot answer (Redis down) reports everything as a miss and refuses
 * fills; it never throws into the read path. `available()` says whether it is worth asking.
 */
import type { CacheLevelName } from '../registry/types.ts';
import type { ActionRow, StaticValue, StoreWrite } from '../store/online-store.ts';

/** Freshness data stored with every entry, for soft expiry and XFetch. */
export interface EntryFreshness {
  /** Epoch ms after which the entry is due for a background refresh (the soft TTL). */
  readonly softExpiresAt: number;
  /** How long loading this entry from below took, ms: XFetch's "delta". */
  readonly loadMs: number;
}

export interface StaticHit extends EntryFreshness {
  /** `undefined`: a negative entry, the store has no value. */
  readonly value: StaticValue | undefined;
}

export interface RangeHit extends EntryFreshness {
  /** The rows answering the lookup (count, time bounds applied), newest first. */
  readonly rows: ActionRow[];
}

/** A range lookup with its time bounds already worked out by the caller. */
export interface RangeLookup {
  readonly pk: string;
  readonly count: number;
  /** Rows need `ts >= minTs` (from `lastNSec`); `-Infinity` for no bound. */
  readonly minTs: number;
  /** Rows need `ts > expiredAtOrBefore` (from the group's row TTL); `-Infinity` for no TTL. */
  readonly expiredAtOrBefore: number;
}

export interface LevelReadRequest {
  readonly statics: readonly string[];
  readonly ranges: readonly RangeLookup[];
}

export interface LevelReadResult {
  /** Per requested pk: a hit, or `undefined` for a miss. */
  readonly statics: (StaticHit | undefined)[];
  readonly ranges: (RangeHit | undefined)[];
}

/** An opaque lease; a fill carries the one it was given. */
export type FillLease = string;

/** How long an entry lives in a level, worked out from the group's policy (jitter applied). */
export interface EntryLifetime {
  /** Epoch ms when the entry must be gone (the hard TTL). */
  readonly expiresAt: number;
  readonly softExpiresAt: number;
  readonly loadMs: number;
}

export type FillEntry =
  | {
      readonly kind: 'static';
      readonly pk: string;
      readonly lease: FillLease;
      readonly value: StaticValue | undefined;
      readonly life: EntryLifetime;
    }
  | {
      readonly kind: 'action';
      readonly pk: string;
      readonly lease: FillLease;
      /** The complete newest-first list the store holds (at most `maxCount`). */
      readonly rows: readonly ActionRow[];
      readonly maxCount: number;
      readonly life: EntryLifetime;
    };

/** A durable store write, handed to a level after the store accepted it. */
export interface LevelChange {
  readonly write: StoreWrite;
  /**
   * `write-through`: update an entry the level holds (append the row, replace a single value if
   * not older); `write-around`: drop the entry. set/map values are always dropped (their merged
   * value lives in the store only). Either way the pk's lease is revoked.
   */
  readonly mode: 'write-through' | 'write-around';
  /** New hard expiry for an updated entry, epoch ms. */
  readonly expiresAt: number;
}

export interface CacheLevel {
  readonly name: CacheLevelName;
  /** False while the level cannot answer (Redis disconnected); the read path then skips it. */
  available(): boolean;
  /** Looks everything up; never throws (a failure reads as all misses). */
  read(request: LevelReadRequest, now: number): Promise<LevelReadResult>;
  /** Leases for pks about to be loaded from below; `undefined` where none could be taken. */
  lease(pks: readonly string[]): Promise<(FillLease | undefined)[]>;
  /** Stores loaded entries whose lease still holds; resolves how many landed. Never throws. */
  fill(entries: readonly FillEntry[]): Promise<number>;
  /** Applies durable writes (update or drop entries, revoke leases). Never throws. */
  apply(changes: readonly LevelChange[]): Promise<void>;
  close(): Promise<void>;
}
