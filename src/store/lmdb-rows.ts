import type { LmdbEnv, RowKey, RowValue } from './lmdb-env.ts';
import type { ActionAppend, ActionRow, RangeQuery } from './online-store.ts';

/**
 * Action rows in LMDB. A row lives at `[pk, ts, eventId]`, so a pk's rows sit together sorted by
 * time and rows with equal ts never collide. Two side tables keep appends bounded in cost:
 * `dedupe` (`[pk, eventId] -> ts`) finds the row of a redelivered event, and `rowCounts`
 * (`pk -> n`) tells when a pk is over `maxCount` without counting its rows.
 *
 * Invariants, kept by every function here inside one write transaction:
 * - a row exists iff its dedupe entry exists and points at the row's ts;
 * - `rowCounts[pk]` is the number of rows under pk (absent when zero).
 *
 * The write functions must run inside a write transaction (they use the `*Sync` calls, which
 * join the current transaction).
 */

/** Above any epoch-ms timestamp: the upper bound of a pk's rows (writes are validated below it). */
export const MAX_TS = Number.MAX_SAFE_INTEGER;

/**
 * Appends one row, idempotently by event id: a redelivered event rewrites its row, moving it when
 * its ts changed (arrival time used as event time), instead of adding a second one. Then trims the
 * pk's oldest rows beyond `maxCount`, which costs one short forward scan of just the excess rows.
 */
export function appendRow(env: LmdbEnv, write: ActionAppend): void {
  const { pk, row } = write;
  const dedupeKey: [string, string] = [pk, row.eventId];
  const previousTs = env.dedupe.get(dedupeKey);
  const storedCount = env.rowCounts.get(pk) ?? 0;
  let count = storedCount;
  if (previousTs === undefined) {
    count++;
  } else if (previousTs !== row.ts) {
    env.rows.removeSync([pk, previousTs, row.eventId]);
  }
  const expiresAt = write.ttlMs === undefined ? null : row.ts + write.ttlMs;
  const value: RowValue = [expiresAt, row.values];
  env.rows.putSync([pk, row.ts, row.eventId], value);
  if (previousTs !== row.ts) env.dedupe.putSync(dedupeKey, row.ts);
  if (count > write.maxCount) count -= trimOldest(env, pk, count - write.maxCount);
  if (count !== storedCount) env.rowCounts.putSync(pk, count);
}

/** Deletes the `excess` oldest rows of pk and their dedupe entries; returns how many went. */
function trimOldest(env: LmdbEnv, pk: string, excess: number): number {
  const victims = [...env.rows.getKeys({ start: [pk], end: [pk, MAX_TS], limit: excess })] as RowKey[];
  for (const key of victims) {
    env.rows.removeSync(key);
    env.dedupe.removeSync([pk, key[2]]);
  }
  return victims.length;
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
  const removedPerPk = new Map<string, number>();
  for (const key of expired) {
    const [pk, , eventId] = key;
    env.rows.removeSync(key);
    env.dedupe.removeSync([pk, eventId]);
    removedPerPk.set(pk, (removedPerPk.get(pk) ?? 0) + 1);
  }
  for (const [pk, removed] of removedPerPk) {
    const left = (env.rowCounts.get(pk) ?? 0) - removed;
    if (left > 0) env.rowCounts.putSync(pk, left);
    else env.rowCounts.removeSync(pk);
  }
  return { removed: expired.length, next: scanned < budget ? undefined : last };
}
