import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { LarderError } from '../../errors.ts';
// Loaded for its msgpack extension: vectors are stored as float32 bytes.
import '../../keys/float-vector.ts';
import { committed, handleOrphanedCommitFailures } from './lmdb-commit-failures.ts';

/**
 * One LMDB environment (`<dataDir>/larder.mdb`) holding every embedded table in named
 * sub-databases, so that one write transaction can span rows, indexes and static values.
 *
 * Layout (keys use lmdb's ordered-binary encoding, values msgpack):
 * - `rows`:       `[pk, ts, eventId]` -> `[expiresAt | null, values]`; sorted by time inside a pk.
 * - `dedupe`:     `[pk, eventId]` -> ts of the stored row, so a redelivered event finds its row.
 * - `rowMeta`:    `pk` -> `[count, oldestTs[], oldestIds[]]`: how many rows pk holds and the keys
 *                 of its few oldest rows, so trimming to maxCount rarely needs a cursor.
 * - `statics`:    `pk` -> a stored static container (see `../static-value.ts`).
 * - `deadLetters`: sortable id -> dead letter.
 * - `meta`:       `format` -> on-disk format version.
 */
export type RowKey = [pk: string, ts: number, eventId: string];
/** `[expiresAt, values]`: the event id and ts already live in the key, so the value stays small. */
export type RowValue = [expiresAt: number | null, values: Readonly<Record<string, unknown>>];
/**
 * Per-pk row bookkeeping: the row count, and the `(ts, eventId)` of the pk's first
 * `oldestTs.length` rows in key order (a prefix of its rows, possibly empty).
 */
export type RowMeta = [count: number, oldestTs: number[], oldestIds: string[]];

export interface LmdbEnvOptions {
  /**
   * Initial address space to map, in bytes (LMDB grows it when full). Default 1 GiB. This is
   * virtual memory: the file only grows with the data.
   */
  readonly mapSize?: number;
  /**
   * `true` (default): a write resolves only once it is flushed to disk. `false` skips fsync, for
   * throwaway data and benchmarks only: a machine crash can lose recent writes.
   */
  readonly sync?: boolean;
}

export interface LmdbEnv {
  /** The LMDB file. */
  readonly path: string;
  readonly root: RootDatabase;
  readonly rows: Database<RowValue, RowKey>;
  readonly dedupe: Database<number, [string, string]>;
  readonly rowMeta: Database<RowMeta, string>;
  readonly statics: Database<unknown, string>;
  readonly deadLetters: Database<unknown, string>;
  readonly meta: Database<unknown, string>;
  /** Resolves once every write committed so far is flushed to disk. */
  flushed(): Promise<void>;
  readonly closed: boolean;
  /** Waits for pending writes, then closes the environment. Idempotent. */
  close(): Promise<void>;
}

/** Bump when the stored shapes change incompatibly. */
export const LMDB_FORMAT_VERSION = 1;
const FORMAT_KEY = 'format';
/**
 * Structures (the key lists of msgpack records) are shared per database, so every row of a group
 * stores its field names once. The limit bounds the table when values have free-form keys
 * (`json` fields); beyond it msgpackr falls back to self-describing records.
 */
const MAX_SHARED_STRUCTURES = 1024;

/**
 * Opens (creating if needed) the embedded environment under `dataDir`. Throws
 * `LARDER_ERR_STORE_UNAVAILABLE` when the directory cannot be used and `LARDER_ERR_STORE_FORMAT`
 * when the data was written by an incompatible version.
 */
export function openLmdbEnv(dataDir: string, options: LmdbEnvOptions = {}): LmdbEnv {
  const path = join(dataDir, 'larder.mdb');
  handleOrphanedCommitFailures();
  let root: RootDatabase;
  try {
    mkdirSync(dataDir, { recursive: true });
    root = open({
      path,
      noSubdir: true,
      maxDbs: 16,
      mapSize: options.mapSize ?? 2 ** 30,
      // Commits publish the data and fsync afterwards, outside the write lock, so disk flushes
      // overlap with the next transaction; `flushed()` is what makes a write durable.
      overlappingSync: options.sync !== false,
      noSync: options.sync === false,
      // The default: every async write of one event turn goes into the same transaction, which
      // is what turns many small appends into few commits.
      eventTurnBatching: true,
    });
  } catch (cause) {
    throw new LarderError('LARDER_ERR_STORE_UNAVAILABLE', `cannot open the LMDB store at ${path}`, {
      cause,
      details: { path },
    });
  }
  const structures = {
    sharedStructuresKey: Symbol.for('structures'),
    maxSharedStructures: MAX_SHARED_STRUCTURES,
  };
  const rows = root.openDB<RowValue, RowKey>({ name: 'rows', ...structures });
  const dedupe = root.openDB<number, [string, string]>({ name: 'dedupe' });
  const rowMeta = root.openDB<RowMeta, string>({ name: 'rowMeta' });
  const statics = root.openDB<unknown, string>({ name: 'statics', ...structures });
  const deadLetters = root.openDB<unknown, string>({ name: 'deadLetters' });
  const meta = root.openDB<unknown, string>({ name: 'meta' });
  checkFormat(meta, path, root);

  let closed = false;
  let closing: Promise<void> | undefined;
  return {
    path,
    root,
    rows,
    dedupe,
    rowMeta,
    statics,
    deadLetters,
    meta,
    async flushed() {
      await committed(path, Promise.resolve(root.flushed));
    },
    get closed() {
      return closed;
    },
    close() {
      closed = true;
      closing ??= root.close();
      return closing;
    },
  };
}

function checkFormat(meta: Database<unknown, string>, path: string, root: RootDatabase): void {
  const stored = meta.get(FORMAT_KEY);
  if (stored === undefined) {
    meta.putSync(FORMAT_KEY, LMDB_FORMAT_VERSION);
    return;
  }
  if (stored !== LMDB_FORMAT_VERSION) {
    void root.close();
    throw new LarderError(
      'LARDER_ERR_STORE_FORMAT',
      `the store at ${path} has format ${String(stored)}; this Larder reads format ${LMDB_FORMAT_VERSION}`,
      { details: { path, found: stored, expected: LMDB_FORMAT_VERSION } },
    );
  }
}
