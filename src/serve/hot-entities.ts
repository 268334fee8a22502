import { jittered } from '../cache/cache-policy.ts';
import type { EntityObject } from './entity-object.ts';

/**
 * An in-process cache of entity objects (an entity's id and static feature values), shared by all
 * requests of the process: the "hot entity features" of the serving path. A profile read joins
 * ~50 articles; with this cache those are 50 map lookups returning objects ready to serve, instead
 * of ~100 reads through the cache levels.
 *
 * Freshness: a write through this process's layered store drops the entities it changed at once
 * (`forget`, wired by `createServer`); a read that started before such a write never stores its
 * result. Writes made by other processes are served after at most `ttlMs`, the same kind of bound
 * the local cache level has (its TTL). Bounded by entry count per entity type; oldest go first.
 */
export interface HotEntityOptions {
  /** How long an entry is served, ms. 0 turns the cache off. */
  readonly ttlMs: number;
  /** Entries kept per entity type. Default 500,000. */
  readonly maxEntries?: number;
  /** The clock entries expire by, ms; tests pass a manual one. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * One version of a cached entity: storing the entity again makes a new entry, never changes this
 * one. `live` stays true while the entry is the cache's current one for its id (it turns false
 * when replaced, evicted or forgotten), so a holder of the entry can tell, without a lookup,
 * whether `get` would still answer with it (`isCurrent`). The object is shared by every request
 * until the entry expires: never modify it.
 */
export interface HotEntry {
  readonly object: EntityObject;
  readonly found: boolean;
  readonly expiresAt: number;
  readonly live: boolean;
}

/**
 * An entry as the cache holds it: only the cache turns `live` off, and only the cache extends
 * `expiresAt` (a refresh that read the same values).
 */
interface HeldEntry extends Omit<HotEntry, 'live' | 'expiresAt'> {
  live: boolean;
  expiresAt: number;
}

const FORGET_WINDOW_MS = 5_000;
/**
 * Forgets remembered at most: past it (a burst of writes, e.g. another process's backfill told
 * through Redis), everything is forgotten at once instead, which keeps the same guarantee.
 */
const MAX_FORGOTTEN = 100_000;
/**
 * Entries live between 85% and 100% of the TTL: entities read together (a warm-up, a popular
 * list) then expire spread out instead of all being read again in the same second.
 */
const TTL_JITTER = 0.15;

export class HotEntityCache {
  readonly ttlMs: number;
  /** The cache's clock: a request reads it once and passes the time to `get`, `set`, `isCurrent`. */
  readonly now: () => number;
  readonly #max: number;
  readonly #byEntity = new Map<string, Map<string, HeldEntry>>();
  /** Counts forgets; a read remembers it when it starts (`epoch`). */
  #epoch = 0;
  /** The epoch of the last `forgetAll`: reads that started before it store nothing. */
  #clearedEpoch = 0;
  /** Recently forgotten `entity#id` -> the epoch of the forget and when (kept FORGET_WINDOW_MS). */
  readonly #forgotten = new Map<string, { readonly epoch: number; readonly at: number }>();

  constructor(options: HotEntityOptions) {
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
    this.#max = options.maxEntries ?? 500_000;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** Entries held, over all entity types (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const entries of this.#byEntity.values()) n += entries.size;
    return n;
  }

  /**
   * The cached entity `id` when it holds every one of `features` and has not expired: the object
   * (shared: never modify it) and whether the entity exists. Undefined on a miss.
   */
  get(entity: string, id: string, features: readonly string[], now: number): HotEntry | undefined {
    const entry = this.#byEntity.get(entity)?.get(id);
    if (entry === undefined || entry.expiresAt <= now) return undefined;
    const object = entry.object;
    for (let i = 0; i < features.length; i++) {
      // Read features are own properties (null when absent); undefined: never read.
      if (object[features[i]!] === undefined) return undefined;
    }
    return entry;
  }

  /**
   * Whether `entry` (from `get` or `set`) is still the one `get` answers with at `now`: it holds
   * the same features it held then. The caller uses it instead of a lookup (and counts the hit).
   */
  isCurrent(entry: HotEntry, now: number): boolean {
    return entry.live && entry.expiresAt > now;
  }

  /** The current epoch: pass it to `set` for a read that starts now. */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Stores a freshly read entity, unless it was forgotten after `readEpoch` (the read may predate
   * the write that caused the forget). Returns the entry to serve, or undefined when it was not
   * stored. When the entry held holds exactly the same values (the common refresh after a TTL),
   * that entry is kept and its life extended instead: its object, and the text kept with it,
   * stay, so a refresh creates nothing long-lived (no old-generation churn for the GC).
   */
  set(
    entity: string,
    object: EntityObject,
    found: boolean,
    now: number,
    readEpoch = this.#epoch,
  ): HotEntry | undefined {
    if (readEpoch < this.#clearedEpoch) return undefined;
    if (this.#forgotten.size > 0 && (this.#forgotten.get(`${entity}#${object.id}`)?.epoch ?? 0) > readEpoch)
      return undefined;
    let entries = this.#byEntity.get(entity);
    if (entries === undefined) this.#byEntity.set(entity, (entries = new Map()));
    // Re-insert so that Map order stays oldest-first for eviction.
    const previous = entries.get(object.id);
    const expiresAt = now + jittered(this.ttlMs, TTL_JITTER);
    if (previous !== undefined) {
      entries.delete(object.id);
      if (previous.live && previous.found === found && sameValues(previous.object, object)) {
        previous.expiresAt = expiresAt;
        entries.set(object.id, previous);
        return previous;
      }
      previous.live = false;
    }
    const entry: HeldEntry = { object, found, expiresAt, live: true };
    entries.set(object.id, entry);
    if (entries.size > this.#max) {
      let drop = Math.ceil(this.#max / 10);
      for (const [key, old] of entries) {
        old.live = false;
        entries.delete(key);
        if (--drop === 0) break;
      }
    }
    return entry;
  }

  /**
   * Forgets every entity (writes this process cannot name key by key: a batch job's task
   * threads); a read that started before keeps its result out.
   */
  forgetAll(): void {
    for (const entries of this.#byEntity.values()) for (const entry of entries.values()) entry.live = false;
    this.#byEntity.clear();
    this.#clearedEpoch = ++this.#epoch;
  }

  /** Forgets an entity (after a write to it in this process). */
  forget(entity: string, id: string, now = this.now()): void {
    const entries = this.#byEntity.get(entity);
    const entry = entries?.get(id);
    if (entry !== undefined) {
      entry.live = false;
      entries!.delete(id);
    }
    const key = `${entity}#${id}`;
    // Re-inserted so the map stays oldest-first; no read runs for 5 s (requests time out long
    // before), so older forgets are dropped from the front.
    this.#forgotten.delete(key);
    if (this.#forgotten.size >= MAX_FORGOTTEN) {
      this.#forgotten.clear();
      this.forgetAll();
      return;
    }
    this.#forgotten.set(key, { epoch: ++this.#epoch, at: now });
    for (const [old, f] of this.#forgotten) {
      if (now - f.at <= FORGET_WINDOW_MS) break;
      this.#forgotten.delete(old);
    }
  }
}

/**
 * Whether two entity objects hold the same features with the same values: primitives equal,
 * anything else (lists, maps, value objects) equal as JSON.
 */
function sameValues(a: EntityObject, b: EntityObject): boolean {
  const keys = Object.keys(b);
  if (Object.keys(a).length !== keys.length) return false;
  for (const key of keys) {
    if (!sameValue(a[key], b[key])) return false;
  }
  return true;
}

export function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
  return JSON.stringify(x) === JSON.stringify(y);
}
