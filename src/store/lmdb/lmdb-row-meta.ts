import { compareKeys } from 'lmdb';
import type { RowMeta } from './lmdb-env.ts';

/**
 * The "oldest rows" hint kept in each pk's `RowMeta`: the `(ts, eventId)` of the pk's first few rows
 * in key order. Trimming to maxCount pops from it instead of opening a cursor, which in lmdb-js
 * costs several times a point lookup; a cursor is needed only when the hint runs dry, once per
 * `OLDEST_KEPT` trims.
 *
 * Invariant: the hint is always a prefix of the pk's rows in key order (possibly empty, never
 * longer than the row count). Every insert and delete of a row goes through `noteInserted` /
 * `noteRemoved` inside the same write transaction, so it holds across processes too.
 */
export const OLDEST_KEPT = 16;

export function emptyRowMeta(): RowMeta {
  return [0, [], []];
}

/** Orders two rows of one pk the way their LMDB keys sort: by ts, then event id. */
function compareRows(tsA: number, idA: string, tsB: number, idB: string): number {
  if (tsA !== tsB) return tsA < tsB ? -1 : 1;
  if (idA === idB) return 0;
  // Ids compare by their UTF-8 key bytes, which JS string order does not always match.
  return compareKeys(idA, idB);
}

/**
 * Records that a row was inserted. `countBefore` is the row count before the insert: when the
 * hint held every row, a newer row can extend it; otherwise only a row that sorts inside the hint
 * belongs in it.
 *
 * A pk's first row does not start a hint: hints are built only by the trim's cursor refill. So a
 * pk below its maxCount keeps an empty hint (empty is a prefix too), and its meta stays a few
 * bytes instead of 16 keys that every append would decode and re-encode for nothing.
 */
export function noteInserted(meta: RowMeta, ts: number, id: string, countBefore: number): void {
  const [, oldTs, oldIds] = meta;
  if (oldTs.length === 0) return; // empty stays empty: see above (and beyond the prefix anyway)
  let pos = oldTs.length;
  while (pos > 0 && compareRows(ts, id, oldTs[pos - 1] as number, oldIds[pos - 1] as string) < 0) pos--;
  if (pos === oldTs.length && oldTs.length < countBefore) return; // beyond the known prefix
  oldTs.splice(pos, 0, ts);
  oldIds.splice(pos, 0, id);
  if (oldTs.length > OLDEST_KEPT) {
    oldTs.pop();
    oldIds.pop();
  }
}

/** Records that a row was deleted; the hint stays a prefix (one shorter if it held the row). */
export function noteRemoved(meta: RowMeta, ts: number, id: string): void {
  const [, oldTs, oldIds] = meta;
  for (let i = 0; i < oldTs.length; i++) {
    if (oldTs[i] === ts && oldIds[i] === id) {
      oldTs.splice(i, 1);
      oldIds.splice(i, 1);
      return;
    }
  }
}
