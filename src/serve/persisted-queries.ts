import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { LarderError } from '../errors.ts';
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

  /**
   * A Mercurius `persistedQueryProvider`: hash-only requests are looked up (LARDER_ERR_PERSISTED_QUERY_NOT_FOUND
   * when unknown); requests with both hash and text are checked (LARDER_ERR_PERSISTED_QUERY_MISMATCH)
   * and registered; plain queries pass through.
   */
  mercuriusProvider(): {
    isPersistedQuery: (body: RequestBody) => boolean;
    isPersistedQueryRetry: (body: RequestBody) => boolean;
    getHash: (body: RequestBody) => string | false;
    getQueryFromHash: (hash: string) => Promise<string>;
    getHashForQuery: (query: string) => string;
    saveQuery: (hash: string, query: string) => Promise<void>;
  } {
    return {
      isPersistedQuery: (body) => typeof body.query !== 'string' && requestedHash(body) !== undefined,
      isPersistedQueryRetry: (body) => {
        if (typeof body.query !== 'string') return false;
        const hash = requestedHash(body);
        if (hash === undefined) return false;
        if (hash.toLowerCase() !== queryHash(body.query)) {
          throw new LarderError(
            'LARDER_ERR_PERSISTED_QUERY_MISMATCH',
            'the sha256 hash does not match the query text',
            {
              details: { hash },
            },
          );
        }
        return true;
      },
      getHash: (body) => requestedHash(body)?.toLowerCase() ?? false,
      getQueryFromHash: async (hash) => {
        const query = await this.lookup(hash);
        if (query === undefined) {
          throw new LarderError(
            'LARDER_ERR_PERSISTED_QUERY_NOT_FOUND',
            `no persisted query has the hash ${hash.slice(0, 64)}`,
            {
              details: { hash: hash.slice(0, 64) },
            },
          );
        }
        return query;
      },
      getHashForQuery: queryHash,
      saveQuery: async (_hash, query) => {
        await this.register(query);
      },
    };
  }
}

interface RequestBody {
  readonly query?: unknown;
  readonly id?: unknown;
  readonly extensions?: {
    readonly persistedQuery?: { readonly version?: unknown; readonly sha256Hash?: unknown };
  } | null;
}

function requestedHash(body: RequestBody): string | undefined {
  const apq = body.extensions?.persistedQuery;
  if (apq !== undefined && typeof apq.sha256Hash === 'string') return apq.sha256Hash;
  return typeof body.id === 'string' ? body.id : undefined;
}
