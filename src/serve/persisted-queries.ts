import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { LarderError } from '../errors.ts';
import type { OnlineStore, StoreWrite } from '../store/online-store.ts';

/**
 * Persisted queries: a client registers a query once and then sends only its SHA-256 hash.
 *
 * - Register: `POST /v1/queries {"query": "..."}` (an admin key) answers `{"id": "<sha256 hex>"}`.
 *   The query is kept in the online store (a static value under `__larder:pq#<hash>`), so every
 *   worker and every server sharing the store knows it, and a restart forgets none. The store
 *   keeps at most `maxStored` queries of `maxStoredBytes` in all (an index under
 *   `__larder:pq-index` counts them); past either, registering is refused with
 *   LARDER_ERR_PERSISTED_QUERY_QUOTA.
 * - Apollo's automatic persisted queries: sending the hash and the full text together (any key
 *   that may query) makes this process remember the text, in memory only: the protocol itself
 *   sends the text again to a server that does not know the hash.
 * - Call: `POST /graphql {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<id>"}},
 *   "variables": {...}}`, or `{"id": "<id>", "variables": {...}}`.
 *
 * Texts are checked before either kind of registration (plugins/persisted-queries.ts). Known
 * texts are kept in a bounded in-process LRU (entries and bytes) in front of the store.
 */
export const PERSISTED_QUERY_PREFIX = '__larder:pq#';
export const PERSISTED_QUERY_INDEX = '__larder:pq-index';
const HASH = /^[0-9a-f]{64}$/;
/** The index's own bound: far above any quota, so it never evicts an entry it counts. */
const INDEX_MAX_ENTRIES = 1_000_000;

export function queryHash(query: string): string {
  return createHash('sha256').update(query, 'utf8').digest('hex');
}

/** The subset of the store used to keep queries. */
export type PersistedQueryBacking = Pick<OnlineStore, 'getStatic' | 'write'>;

export interface PersistedQueriesOptions {
  /** Texts kept in memory. Default 10,000. */
  readonly maxEntries?: number;
  /** Bytes of text kept in memory. Default 16 MiB. */
  readonly maxCachedBytes?: number;
  readonly backing?: PersistedQueryBacking;
  /** Queries the store keeps. Default 1,000. */
  readonly maxStored?: number;
  /** Bytes of query text the store keeps. Default 8 MiB. */
  readonly maxStoredBytes?: number;
}

export class PersistedQueries {
  readonly #cache: LRUCache<string, string>;
  readonly #backing: PersistedQueryBacking | undefined;
  readonly #maxStored: number;
  readonly #maxStoredBytes: number;
  /** Registrations run one at a time, so two cannot both pass the quota on the same count. */
  #registering: Promise<unknown> = Promise.resolve();

  constructor(options: PersistedQueriesOptions = {}) {
    this.#cache = new LRUCache({
      max: options.maxEntries ?? 10_000,
      maxSize: options.maxCachedBytes ?? 16 * 2 ** 20,
      sizeCalculation: (query) => Math.max(1, query.length * 2),
    });
    this.#backing = options.backing;
    this.#maxStored = options.maxStored ?? 1_000;
    this.#maxStoredBytes = options.maxStoredBytes ?? 8 * 2 ** 20;
  }

  /**
   * Stores `query` (within the quota) and returns its hash. Registering a known query again is
   * free and always allowed.
   */
  register(query: string): Promise<string> {
    const next = this.#registering.then(() => this.#register(query));
    this.#registering = next.catch(() => undefined);
    return next;
  }

  /** Remembers `query` in this process only (automatic persisted queries); returns its hash. */
  remember(query: string): string {
    const hash = queryHash(query);
    this.#cache.set(hash, query);
    return hash;
  }

  async #register(query: string): Promise<string> {
    const hash = queryHash(query);
    if (this.#backing === undefined) return this.remember(query);
    const [index] = await this.#backing.getStatic([PERSISTED_QUERY_INDEX]);
    const stored = indexEntries(index?.value);
    if (stored[hash] === undefined) {
      const bytes = Buffer.byteLength(query, 'utf8');
      const count = Object.keys(stored).length;
      const total = Object.values(stored).reduce((sum, n) => sum + n, 0);
      if (count + 1 > this.#maxStored || total + bytes > this.#maxStoredBytes) {
        throw new LarderError(
          'LARDER_ERR_PERSISTED_QUERY_QUOTA',
          `the store keeps at most ${this.#maxStored} persisted queries of ${this.#maxStoredBytes} bytes in all; it has ${count} of ${total} bytes, and this one is ${bytes} bytes`,
          {
            details: {
              limit: this.#maxStored,
              limitBytes: this.#maxStoredBytes,
              stored: count,
              storedBytes: total,
            },
          },
        );
      }
      const now = Date.now();
      const writes: StoreWrite[] = [
        {
          kind: 'static',
          pk: PERSISTED_QUERY_PREFIX + hash,
          container: 'single',
          mutation: { op: 'set', value: query },
          ts: now,
          ttlMs: undefined,
          maxCount: 1,
        },
        {
          kind: 'static',
          pk: PERSISTED_QUERY_INDEX,
          container: 'map',
          mutation: { op: 'put', key: hash, value: bytes },
          ts: now,
          ttlMs: undefined,
          maxCount: INDEX_MAX_ENTRIES,
        },
      ];
      await this.#backing.write(writes);
    }
    this.#cache.set(hash, query);
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

/** The index as stored: hash -> bytes; anything else counts as empty. */
function indexEntries(value: unknown): Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [hash, bytes] of Object.entries(value as Record<string, unknown>)) {
    if (typeof bytes === 'number' && Number.isFinite(bytes)) out[hash] = bytes;
  }
  return out;
}
