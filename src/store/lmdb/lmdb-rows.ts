import type { LmdbEnv, RowKey, RowMeta, RowValue } from './lmdb-env.ts';
import { OLDEST_KEPT, emptyRowMeta, noteInserted, noteRemoved } from './lmdb-row-meta.ts';
import type { ActionAppend, ActionRow, RangeQuery } from '../online-store.ts';

/**
 * Action rows in LMDB. A row lives at `[pk, ts, eventId]`, so a pk's rows sit together sorted by
 * time and rows with equal ts never collide. Two side tables keep appends bounded in cost:
 * `dedupe` (`[pk, eventId] -> ts`) finds the row of an event already stored, whatever ts it came
 * with (an arrival time that a redelivery changes, or an event time a producer corrected), so a
 * pk holds one row per event id, as the storage model requires; and `rowMeta` (`pk -> [count,
 * oldest rows]`) tells when a pk is over `maxCount` and which rows to drop, without counting or
 * scanning its rows.
 *
 * Invariants, kept by every function here inside one write transaction:
 * - every row written by this version has a dedupe entry pointing at its ts, and every dedupe
 *   entry points at an existing row;
 * - `rowMeta[pk]` counts the rows under pk (absent when zero) and its hint is a prefix of them.
 *
 * Rows an earlier Larder stored for event-time events (`stableTs`) may lack a dedupe entry; a
 * redelivery at the same ts finds the row itself and rewrites it, and gives it its entry.
 *
 * The write functions must run inside a write transaction (they use the `*Sync` calls, which
 * join the current transaction).
 */

/** Above any epoch-ms timestamp: the upper bound of a pk's rows (writes are validated below it). */
export const MAX_TS = Number.MAX_SAFE_INTEGER;

/** `putSync` flag: write only when the key is absent (returns false, writing nothing, otherwise). */
const NO_OVERWRITE = { noOverwrite: true } as const;

/**
 * The row metas one batch has changed, written once each at its end (`saveRowMetas`) instead of
 * once per append: a batch that appends to a pk n times then reads and rewrites its meta once,
 * not n times. Reads go through it, so later appends of the batch see the earlier ones.
 */
export type RowMetaChanges = Map<string, RowMeta>;

function metaOf(env: LmdbEnv, changes: RowMetaChanges, pk: string): RowMeta | undefined {
  return changes.get(pk) ?? env.rowMeta.get(pk);
}

/** Writes the batch's changed metas; call once, at the end of the batch, in its transaction. */
export function saveRowMetas(env: LmdbEnv, changes: RowMetaChanges): void {
  for (const [pk, meta] of changes) env.rowMeta.putSync(pk, meta);
  changes.clear();
}

/**
 * Appends one row, idempotently by event id: the event's dedupe entry says where its row is, so a
 * redelivered event rewrites its row, moving it when its ts changed (an arrival time, or a
 * producer correcting the event time), instead of adding a second one. Then drops the pk's oldest
 * rows beyond `maxCount`. The pk's meta goes into `metas` (the batch saves it).
 */
export function appendRow(env: LmdbEnv, write: ActionAppend, metas: RowMetaChanges): void {
  const { pk, row } = write;
  const expiresAt = write.ttlMs === undefined ? null : row.ts + write.ttlMs;
  const value: RowValue = [expiresAt, row.values];
  const key: RowKey = [pk, row.ts, row.eventId];
  const dedupeKey: [string, string] = [pk, row.eventId];
  // The common case is a new event: claiming its dedupe entry with a no-overwrite put tells that
  // apart from a redelivery without a separate lookup first.
  if (claimDedupe(env, dedupeKey, row.ts)) {
    // A row without a dedupe entry was written by an older Larder for an event-time row: the
    // no-overwrite put finds it, and it is rewritten in place, not counted again.
    if (!claimRow(env, key, value)) {
      env.rows.putSync(key, value);
      trimIfOver(env, pk, metaOf(env, metas, pk), write.maxCount, metas);
      return;
    }
    const meta = metaOf(env, metas, pk) ?? emptyRowMeta();
    noteInserted(meta, row.ts, row.eventId, meta[0]);
    meta[0]++;
    trimIfOver(env, pk, meta, write.maxCount, metas);
    metas.set(pk, meta);
    return;
  }
  const previousTs = env.dedupe.get(dedupeKey);
  env.rows.putSync(key, value);
  if (previousTs === row.ts) {
    // Same event, same place: the put above rewrote it; counts and order are unchanged.
    trimIfOver(env, pk, metaOf(env, metas, pk), write.maxCount, metas);
    return;
  }
  const meta = metaOf(env, metas, pk) ?? emptyRowMeta();
  if (previousTs !== undefined) {
    env.rows.removeSync([pk, previousTs, row.eventId]);
    noteRemoved(meta, previousTs, row.eventId);
    meta[0]--;
  }
  env.dedupe.putSync(dedupeKey, row.ts);
  noteInserted(meta, row.ts, row.eventId, meta[0]);
  meta[0]++;
  trimIfOver(env, pk, meta, write.maxCount, metas);
  metas.set(pk, meta);
}

/** Trims pk down to `maxCount` when its meta says it is over, recording the changed meta. */
function trimIfOver(
  env: LmdbEnv,
  pk: string,
  meta: RowMeta | undefined,
  maxCount: number,
  metas: RowMetaChanges,
): void {
  if (meta === undefined || meta[0] <= maxCount) return;
  trimOldest(env, pk, meta, maxCount);
  metas.set(pk, meta);
}

/** Writes the row only if its key is absent; true when it wrote (see `claimDedupe`). */
function claimRow(env: LmdbEnv, key: RowKey, value: RowValue): boolean {
  return (env.rows.putSync(key, value, NO_OVERWRITE) as unknown) === true;
}

/**
 * Writes the dedupe entry only if it is absent; true when it wrote. lmdb-js's `putSync` returns
 * whether the put happened (false on a failed no-overwrite), though its typings say `void`.
 */
function claimDedupe(env: LmdbEnv, key: [string, string], ts: number): boolean {
  return (env.dedupe.putSync(key, ts, NO_OVERWRITE) as unknown) === true;
}

/**
 * Deletes pk's oldest rows (and their dedupe entries) down to `maxCount`, popping them from the
 * oldest-rows hint and refilling the hint with one short cursor read when it runs dry. Updates
 * `meta` in place; the caller records it among the batch's changed metas.
 */
function trimOldest(env: LmdbEnv, pk: string, meta: RowMeta, maxCount: number): void {
  const [, oldTs, oldIds] = meta;
  while (meta[0] > maxCount) {
    if (oldTs.length === 0) {
      const limit = meta[0] - maxCount + OLDEST_KEPT;
      for (const key of env.rows.getKeys({ start: [pk], end: [pk, MAX_TS], limit }) as Iterable<RowKey>) {
        oldTs.push(key[1]);
        oldIds.push(key[2]);
      }
      if (oldTs.length === 0) {
        meta[0] = 0; // no rows left: the count was stale
        break;
      }
    }
    const ts = oldTs.shift() as number;
    const id = oldIds.shift() as string;
    env.rows.removeSync([pk, ts, id]);
    env.dedupe.removeSync([pk, id]);
    meta[0]--;
  }
  if (oldTs.length > OLDEST_KEPT) {
    oldTs.length = OLDEST_KEPT;
    oldIds.length = OLDEST_KEPT;
  }
}

/**
 * Newest-first live rows of one pk: at most `count`, only `ts >= now - lastNSec*1000`. Expired
 * rows are skipped, and the scan goes on past them until `count` live rows or the range ends.
 */
export function readRange(env: LmdbEnv, query: RangeQuery, now: number): ActionRow[] {
  const rows: ActionRow[] = [];
  if (query.count <= 0) return rows;
  const { pk } = query;
  // Reverse ranges go from `start` (high) down to `end` (low, exclusive). `[pk, minTs]` sorts just
  // below every `[pk, minTs, eventId]`, so rows at exactly minTs are included.
  const end = query.lastNSec === undefined ? [pk] : [pk, now - query.lastNSec * 1000];
  for (const { key, value } of env.rows.getRange({ start: [pk, MAX_TS], end, reverse: true })) {
    const expiresAt = value[0];
    if (expiresAt !== null && expiresAt <= now) continue;
    rows.push({ ts: key[1], eventId: key[2], values: value[1] });
    if (rows.length >= query.count) break;
  }
  return rows;
}

/** Where an incremental purge left off; `undefined` starts from the beginning. */
export type RowPurgeCursor = RowKey | undefined;

/**
 * Deletes expired rows among the next `budget` rows after `cursor` (in key order), with their
 * dedupe entries and counts. Returns what it removed and where the next call should go on
 * (`undefined` once it reached the end, so the next call starts over).
 */
export function purgeRows(
  env: LmdbEnv,
  now: number,
  budget: number,
  cursor: RowPurgeCursor,
): { removed: number; next: RowPurgeCursor } {
  const range =
    cursor === undefined ? { limit: budget } : { start: cursor, exclusiveStart: true, limit: budget };
  const expired: RowKey[] = [];
  let scanned = 0;
  let last: RowKey | undefined;
  for (const { key, value } of env.rows.getRange(range)) {
    scanned++;
    // The shared msgpack structures live in the same database under a symbol key.
    if (!Array.isArray(key)) continue;
    last = key;
    const expiresAt = value[0];
    if (expiresAt !== null && expiresAt <= now) expired.push(key);
  }
  const metas = new Map<string, RowMeta>();
  for (const key of expired) {
    const [pk, ts, eventId] = key;
    env.rows.removeSync(key);
    env.dedupe.removeSync([pk, eventId]);
    let meta = metas.get(pk);
    if (meta === undefined) {
      meta = env.rowMeta.get(pk) ?? emptyRowMeta();
      metas.set(pk, meta);
    }
    noteRemoved(meta, ts, eventId);
    meta[0]--;
  }
  for (const [pk, meta] of metas) {
    if (meta[0] > 0) env.rowMeta.putSync(pk, meta);
    else env.rowMeta.removeSync(pk);
  }
  return { removed: expired.length, next: scanned < budget ? undefined : last };
}
