import { LarderError } from '../../errors.ts';
import { committed } from './lmdb-commit-failures.ts';
import { writeHealthOf } from './lmdb-write-health.ts';
import { openLmdbEnv, type LmdbEnv, type LmdbEnvOptions } from './lmdb-env.ts';
import {
  appendRow,
  purgeRows,
  readRange,
  saveRowMetas,
  type RowMetaChanges,
  type RowPurgeCursor,
} from './lmdb-rows.ts';
import { applyStaticWrite, isExpired, readStatic, type StoredStatic } from '../static-value.ts';
import { checkWrites } from '../write-check.ts';
import type { ActionRow, OnlineStore, RangeQuery, StaticValue, StoreWrite } from '../online-store.ts';

export interface LmdbStoreOptions {
  /** The clock for TTLs and `lastNSec`; tests pass a settable one. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * How many entries of each table one `purgeExpired` call examines. The purge goes on where the
   * previous call stopped, so a background purger covers the whole store over several calls
   * without holding the write lock for long. Default 10,000.
   */
  readonly purgeBatchSize?: number;
  /** Options for the environment, when the store opens it itself from a directory. */
  readonly env?: LmdbEnvOptions;
}

/**
 * The embedded online store: LMDB in process, no server to run.
 *
 * Pass a data directory and the store opens (and on `close`, closes) its own environment; pass an
 * `LmdbEnv` to share one environment with other tables (dead letters), and the caller closes it.
 * Reads are synchronous LMDB lookups on the calling thread; writes go through lmdb-js's async
 * transactions, which batch concurrent `write` calls into one commit.
 */
export class LmdbStore implements OnlineStore {
  readonly name = 'lmdb';
  readonly #source: LmdbEnv | string;
  readonly #now: () => number;
  readonly #purgeBatchSize: number;
  readonly #envOptions: LmdbEnvOptions | undefined;
  #env: LmdbEnv | undefined;
  #closed = false;
  #rowCursor: RowPurgeCursor;
  #staticCursor: string | undefined;

  constructor(envOrDataDir: LmdbEnv | string, options: LmdbStoreOptions = {}) {
    this.#source = envOrDataDir;
    this.#now = options.now ?? Date.now;
    this.#purgeBatchSize = options.purgeBatchSize ?? 10_000;
    this.#envOptions = options.env;
  }

  async open(): Promise<void> {
    if (this.#closed) throw new LarderError('LARDER_ERR_STORE_CLOSED', 'the LMDB store was closed');
    if (this.#env !== undefined) return;
    this.#env = typeof this.#source === 'string' ? openLmdbEnv(this.#source, this.#envOptions) : this.#source;
  }

  /**
   * Applies the batch in one LMDB transaction, in array order, and resolves once it is flushed to
   * disk. The whole batch is validated first; an invalid write rejects the batch untouched.
   */
  async write(writes: readonly StoreWrite[]): Promise<void> {
    const env = this.#ready();
    if (writes.length === 0) return;
    checkWrites(writes);
    await writeHealthOf(env).watch(async () => {
      await committed(
        env.path,
        env.root.transaction(() => applyWrites(env, writes, this.#now())),
      );
      await env.flushed();
    });
  }

  async getStatic(pks: readonly string[]): Promise<(StaticValue | undefined)[]> {
    const env = this.#ready();
    const now = this.#now();
    return pks.map((pk) => readStatic(env.statics.get(pk) as StoredStatic | undefined, now));
  }

  async getRanges(queries: readonly RangeQuery[]): Promise<ActionRow[][]> {
    const env = this.#ready();
    const now = this.#now();
    return queries.map((query) => readRange(env, query, now));
  }

  /**
   * Deletes expired rows and static values among the next `purgeBatchSize` entries of each table,
   * continuing where the previous call stopped. Returns how many entries it deleted.
   */
  async purgeExpired(now: number = this.#now()): Promise<number> {
    const env = this.#ready();
    const removed = await committed(
      env.path,
      env.root.transaction(() => {
        const rows = purgeRows(env, now, this.#purgeBatchSize, this.#rowCursor);
        this.#rowCursor = rows.next;
        const statics = this.#purgeStatics(env, now);
        return rows.removed + statics;
      }),
    );
    if (removed > 0) await env.flushed();
    return removed;
  }

  /** Why writes fail (a full disk), probed again at most once a second; undefined once they work. */
  writeProblem(): Promise<string | undefined> {
    const env = this.#ready();
    return writeHealthOf(env).problem(env);
  }

  async ping(): Promise<boolean> {
    if (this.#closed || this.#env === undefined || this.#env.closed) return false;
    try {
      this.#env.meta.get('format');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const env = this.#env;
    this.#env = undefined;
    // A store given an environment shares it; only one that opened its own closes it.
    if (env !== undefined && typeof this.#source === 'string') await env.close();
  }

  #purgeStatics(env: LmdbEnv, now: number): number {
    const cursor = this.#staticCursor;
    const range =
      cursor === undefined
        ? { limit: this.#purgeBatchSize }
        : { start: cursor, exclusiveStart: true, limit: this.#purgeBatchSize };
    const expired: string[] = [];
    let scanned = 0;
    let last: string | undefined;
    for (const { key, value } of env.statics.getRange(range)) {
      scanned++;
      if (typeof key !== 'string') continue; // the shared msgpack structures entry
      last = key;
      if (isExpired((value as StoredStatic)[2], now)) expired.push(key);
    }
    for (const key of expired) env.statics.removeSync(key);
    this.#staticCursor = scanned < this.#purgeBatchSize ? undefined : last;
    return expired.length;
  }

  #ready(): LmdbEnv {
    if (this.#env === undefined || this.#env.closed) {
      throw new LarderError(
        'LARDER_ERR_STORE_CLOSED',
        this.#closed ? 'the LMDB store was closed' : 'the LMDB store is not open; call open() first',
      );
    }
    return this.#env;
  }
}

/**
 * Applies a validated batch, in array order, inside the current write transaction. Row metas are
 * saved once per pk at the end of the batch (`RowMetaChanges` in `lmdb-rows.ts`).
 */
function applyWrites(env: LmdbEnv, writes: readonly StoreWrite[], now: number): void {
  const metas: RowMetaChanges = new Map();
  try {
    for (const write of writes) {
      if (write.kind === 'action') {
        appendRow(env, write, metas);
      } else {
        const stored = env.statics.get(write.pk) as StoredStatic | undefined;
        const next = applyStaticWrite(stored, write, now);
        if (next !== undefined) env.statics.putSync(write.pk, next);
      }
    }
  } finally {
    // Also when a write threw: the rows written before it stay in the transaction, so their
    // counts must too (a failed callback does not roll back an lmdb-js batch transaction).
    saveRowMetas(env, metas);
  }
}
