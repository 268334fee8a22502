import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { OnlineStore } from '../store/online-store.ts';

/**
 * Persisted queries: a client registers a query once and then sends only its SHA-256 hash.
 *
 * - Register: `POST /v1/queries {"query": "..."}` answers `{"id": "<sha256 hex>"}`; or send the
 *   hash and the full text together once (Apollo's automatic persisted queries).
 * - Call: `POST /graphql {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<id>"}},
 *   "variables": {...}}`, or `{"id": "<id>", "variables": {...}}`.
 *
 * Queries are kept in a bounded in-process LRU in front of the online store (a static value under
 * `__larder:pq#<hash>`), so every worker and every server sharing the store knows a query that
 * any of them registered, and a restart forgets none.
 */
export const PERSISTED_QUERY_PREFIX = '__larder:pq#';
const HASH = /^[0-9a-f]{64}$/;

export function queryHash(query: string): string {
  return createHash('sha256').update(query, 'utf8').digest('hex');
}

/** The subset of the store used to keep queries. */
export type PersistedQueryBacking = Pick<OnlineStore, 'getStatic' | 'write'>;

export class PersistedQueries {
  readonly #cache: LRUCache<string, string>;
  readonly #backing: PersistedQueryBacking | undefined;

  constructor(options: { maxEntries?: number; backing?: PersistedQueryBacking } = {}) {
    this.#cache = new LRUCache({ max: options.maxEntries ?? 10_000 });
    this.#backing = options.backing;
  }

  /** Stores `query` and returns its hash. */
  async register(query: string): Promise<string> {
    const hash = queryHash(query);
    if (this.#cache.get(hash) === query) return hash;
    this.#cache.set(hash, query);
    await this.#backing?.write([
      {
        kind: 'static',
        pk: PERSISTED_QUERY_PREFIX + hash,
        container: 'single',
        mutation: { op: 'set', value: query },
        ts: Date.now(),
        ttlMs: undefined,
        maxCount: 1,
      },
    ]);
    return hash;
  }

  /** The query registered under `hash`, or undefined. */
  async lookup(hash: string): Promise<string | undefined> {
    if (!HASH.test(hash)) return undefined;
    const cached = this.#cache.get(hash);
    if (cached !== undefined || this.#backing === undefined) return cached;
    const [stored] = await this.#backing.getStatic([PERSISTED_QUERY_PREFIX + hash]);
    const query = typeof stored?.value === 'string' ? stored.value : undefined;
    // Guard against a value that is not what its key claims.
    if (query === undefined || queryHash(query) !== hash) return undefined;
    this.#cache.set(hash, query);
    return query;
  }
}
