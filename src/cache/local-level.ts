/**
 * The in-process cache level: an LRU bounded by bytes (an estimate of each entry's size), with a
 * hard TTL per entry taken from its group's policy, an admission policy, and leases so that a
 * load racing a write never stores the older value.
 *
 * It only sees writes made through this process's layered store. Entries written elsewhere (an
 * ingestor in another process) stay as they are until their soft TTL triggers a refresh or their
 * hard TTL drops them: keep the local level's TTLs short for groups written by other processes.
 */
import { LRUCache } from 'lru-cache';
import type { ActionRow, StaticValue } from '../store/online-store.ts';
import { admitAll, SecondReadAdmission, type AdmissionPolicy } from './admission.ts';
import { approxBytes } from './approx-bytes.ts';
import type {
  CacheLevel,
  FillEntry,
  FillLease,
  LevelChange,
  LevelReadRequest,
  LevelReadResult,
  RangeHit,
  StaticHit,
} from './cache-level.ts';
import { selectRows, withAppended } from './row-order.ts';

type LocalEntry =
  | {
      readonly kind: 'static';
      readonly value: StaticValue | undefined;
      readonly expiresAt: number;
      readonly softExpiresAt: number;
      readonly loadMs: number;
      readonly bytes: number;
    }
  | {
      readonly kind: 'action';
      readonly rows: ActionRow[];
      readonly maxCount: number;
      readonly expiresAt: number;
      readonly softExpiresAt: number;
      readonly loadMs: number;
      readonly bytes: number;
    };

export interface LocalLevelOptions {
  /** Memory budget, bytes (estimated sizes). */
  readonly maxBytes: number;
  /** `second-read` (default): store a key only from its second read on. `always`: store every load. */
  readonly admission?: 'second-read' | 'always' | AdmissionPolicy;
  /** The clock the layered store uses; default `Date.now`. */
  readonly now?: () => number;
}

/** Leases outstanding at once; beyond it the oldest are dropped (their fills are then refused). */
const MAX_LEASES = 100_000;
/** Per-entry bookkeeping on top of the value itself: key, entry object, LRU links. */
const ENTRY_OVERHEAD_BYTES = 160;

export class LocalCacheLevel implements CacheLevel {
  readonly name = 'local' as const;
  readonly #lru: LRUCache<string, LocalEntry>;
  readonly #admission: AdmissionPolicy;
  readonly #leases = new Map<string, FillLease>();
  readonly #now: () => number;
  #leaseSeq = 0;

  constructor(options: LocalLevelOptions) {
    this.#lru = new LRUCache<string, LocalEntry>({
      maxSize: options.maxBytes,
      sizeCalculation: (entry) => Math.max(1, entry.bytes),
      // An entry bigger than a tenth of the budget would flush most of the level for one key.
      maxEntrySize: Math.max(1, Math.floor(options.maxBytes / 10)),
    });
    const admission = options.admission ?? 'second-read';
    this.#admission =
      admission === 'always' ? admitAll : admission === 'second-read' ? new SecondReadAdmission() : admission;
    this.#now = options.now ?? Date.now;
  }

  available(): boolean {
    return true;
  }

  /** Entries and bytes held, for metrics and the benchmark. */
  stats(): { entries: number; bytes: number } {
    return { entries: this.#lru.size, bytes: this.#lru.calculatedSize };
  }

  /** Synchronous lookup, so the layered store can answer local hits before any I/O. */
  readNow(request: LevelReadRequest, now: number): LevelReadResult {
    const statics = request.statics.map((pk): StaticHit | undefined => {
      this.#admission.recordRead(pk);
      const entry = this.#get(pk, now);
      return entry?.kind === 'static' ? entry : undefined;
    });
    const ranges = request.ranges.map((q): RangeHit | undefined => {
      this.#admission.recordRead(q.pk);
      const entry = this.#get(q.pk, now);
      if (entry?.kind !== 'action') return undefined;
      return {
        rows: selectRows(entry.rows, q.count, q.minTs, q.expiredAtOrBefore),
        softExpiresAt: entry.softExpiresAt,
        loadMs: entry.loadMs,
      };
    });
    return { statics, ranges };
  }

  async read(request: LevelReadRequest, now: number): Promise<LevelReadResult> {
    return this.readNow(request, now);
  }

  /** Synchronous leases: taken in the same tick as the lookup that missed. */
  leaseNow(pks: readonly string[]): FillLease[] {
    return pks.map((pk) => {
      const lease = String(++this.#leaseSeq);
      this.#leases.delete(pk);
      this.#leases.set(pk, lease);
      if (this.#leases.size > MAX_LEASES) {
        const oldest = this.#leases.keys().next().value;
        if (oldest !== undefined) this.#leases.delete(oldest);
      }
      return lease;
    });
  }

  async lease(pks: readonly string[]): Promise<(FillLease | undefined)[]> {
    return this.leaseNow(pks);
  }

  /** Whether a fill of `pk` would pass the admission policy now. */
  wouldAdmit(pk: string): boolean {
    return this.#admission.admit(pk);
  }

  async fill(entries: readonly FillEntry[]): Promise<number> {
    let landed = 0;
    const now = this.#now();
    for (const e of entries) {
      if (this.#leases.get(e.pk) !== e.lease) continue;
      this.#leases.delete(e.pk);
      if (!this.#admission.admit(e.pk)) continue;
      const ttl = e.life.expiresAt - now;
      if (ttl <= 0) continue;
      const common = {
        expiresAt: e.life.expiresAt,
        softExpiresAt: e.life.softExpiresAt,
        loadMs: e.life.loadMs,
      };
      const entry: LocalEntry =
        e.kind === 'static'
          ? { kind: 'static', value: e.value, ...common, bytes: ENTRY_OVERHEAD_BYTES + approxBytes(e.value) }
          : {
              kind: 'action',
              rows: [...e.rows],
              maxCount: e.maxCount,
              ...common,
              bytes: ENTRY_OVERHEAD_BYTES + approxBytes(e.rows),
            };
      this.#lru.set(e.pk, entry, { ttl });
      landed++;
    }
    return landed;
  }

  async apply(changes: readonly LevelChange[]): Promise<void> {
    this.applyNow(changes);
  }

  /** Applies writes synchronously: revokes leases, then updates or drops entries. */
  applyNow(changes: readonly LevelChange[]): void {
    for (const { write, mode } of changes) {
      this.#leases.delete(write.pk);
      const entry = this.#lru.peek(write.pk);
      if (entry === undefined) continue;
      if (mode === 'write-around') {
        this.#lru.delete(write.pk);
        continue;
      }
      if (write.kind === 'action' && entry.kind === 'action') {
        const rows = withAppended(entry.rows, write.row, Math.min(entry.maxCount, write.maxCount));
        this.#replace(write.pk, { ...entry, rows, bytes: ENTRY_OVERHEAD_BYTES + approxBytes(rows) });
      } else if (
        write.kind === 'static' &&
        write.container === 'single' &&
        write.mutation.op === 'set' &&
        entry.kind === 'static'
      ) {
        if (entry.value !== undefined && entry.value.ts > write.ts) continue;
        const value: StaticValue = { value: write.mutation.value, ts: write.ts };
        this.#replace(write.pk, { ...entry, value, bytes: ENTRY_OVERHEAD_BYTES + approxBytes(value) });
      } else {
        // set/map mutations, or a write that does not match the cached shape: drop the entry.
        this.#lru.delete(write.pk);
      }
    }
  }

  /** Drops `pks` (written by another process), or everything; revokes their fill leases. */
  forget(pks: readonly string[] | 'all'): void {
    if (pks === 'all') {
      this.#lru.clear();
      this.#leases.clear();
      return;
    }
    for (const pk of pks) {
      this.#leases.delete(pk);
      this.#lru.delete(pk);
    }
  }

  async close(): Promise<void> {
    this.#lru.clear();
    this.#leases.clear();
  }

  #get(pk: string, now: number): LocalEntry | undefined {
    const entry = this.#lru.get(pk);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#lru.delete(pk);
      return undefined;
    }
    return entry;
  }

  /** Replaces an entry, keeping its remaining TTL. */
  #replace(pk: string, entry: LocalEntry): void {
    this.#lru.set(pk, entry, { noUpdateTTL: true });
  }
}
