import type { ActionRow } from '../store/online-store.ts';

/**
 * The order every store returns rows in: newest ts first, equal times by event id descending (the
 * reverse of the stores' `(ts, eventId)` key order). Negative when `a` comes first.
 */
export function compareRows(a: ActionRow, b: ActionRow): number {
  if (a.ts !== b.ts) return b.ts - a.ts;
  return a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0;
}

/**
 * A complete row list with one more row appended, as the store would hold it: the event's
 * previous row (same event id) replaced, newest first, at most `maxCount` rows.
 */
export function withAppended(rows: readonly ActionRow[], row: ActionRow, maxCount: number): ActionRow[] {
  const next = rows.filter((r) => r.eventId !== row.eventId);
  let at = next.findIndex((r) => compareRows(row, r) < 0);
  if (at < 0) at = next.length;
  next.splice(at, 0, row);
  if (next.length > maxCount) next.length = maxCount;
  return next;
}

/** The rows a range lookup answers: the time bounds, then the first `count`. */
export function selectRows(
  rows: readonly ActionRow[],
  count: number,
  minTs: number,
  expiredAtOrBefore: number,
): ActionRow[] {
  const out: ActionRow[] = [];
  for (const row of rows) {
    if (out.length >= count || row.ts < minTs) break;
    if (row.ts > expiredAtOrBefore) out.push(row);
  }
  return out;
}
