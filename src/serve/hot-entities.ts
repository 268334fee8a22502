import type { EntityObject } from './request-loader.ts';

/**
 * A short-lived in-process cache of entity objects (an entity's id and static feature values),
 * shared by all requests of the process: the "hot entity features" of the serving path. A
 * profile read joins ~50 articles; with this cache those are 50 map lookups returning objects
 * ready for GraphQL, instead of ~100 reads through the cache levels and 50 new objects.
 *
 * Entries live `ttlMs` (default off): a value changed by a write can be served for up to that
 * long, by every process. Keep it short (a second or so) and use it for features that tolerate
 * it (titles, prices, categories); per-group freshness stays the job of the cache levels.
 * Bounded by entry count per entity type; the oldest entries go first.
 */
export interface HotEntityOptions {
  /** How long an entry is served, ms. 0 turns the cache off. */
  readonly ttlMs: number;
  /** Entries kept per entity type. Default 200,000. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly object: EntityObject;
  readonly found: boolean;
  readonly expiresAt: number;
}

export class HotEntityCache {
  readonly ttlMs: number;
  readonly #max: number;
  readonly #byEntity = new Map<string, Map<string, Entry>>();
  hits = 0;
  misses = 0;

  constructor(options: HotEntityOptions) {
    this.ttlMs = options.ttlMs;
    this.#max = options.maxEntries ?? 200_000;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /**
   * The cached entity `id` when it holds every one of `features` and has not expired: the object
   * (shared: never modify it) and whether the entity exists. Undefined on a miss.
   */
  get(entity: string, id: string, features: readonly string[], now: number): Entry | undefined {
    const entry = this.#byEntity.get(entity)?.get(id);
    if (entry === undefined || entry.expiresAt <= now) {
      this.misses++;
      return undefined;
    }
    const object = entry.object;
    for (let i = 0; i < features.length; i++) {
      // Read features are own properties (null when absent); undefined: never read.
      if (object[features[i]!] === undefined) {
        this.misses++;
        return undefined;
      }
    }
    this.hits++;
    return entry;
  }

  /** Stores a freshly read entity (replacing, and so refreshing, any previous entry). */
  set(entity: string, object: EntityObject, found: boolean, now: number): void {
    let entries = this.#byEntity.get(entity);
    if (entries === undefined) this.#byEntity.set(entity, (entries = new Map()));
    // Re-insert so that Map order stays oldest-first for eviction.
    entries.delete(object.id);
    entries.set(object.id, { object, found, expiresAt: now + this.ttlMs });
    if (entries.size > this.#max) {
      let drop = Math.ceil(this.#max / 10);
      for (const key of entries.keys()) {
        entries.delete(key);
        if (--drop === 0) break;
      }
    }
  }

  /** Forgets an entity (after a write to it in this process). */
  forget(entity: string, id: string): void {
    this.#byEntity.get(entity)?.delete(id);
  }
}
