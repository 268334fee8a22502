import type { DeadLetter, DeadLetterStore } from '../../store/dead-letters.ts';
import type { DeadLetterDetail, DeadLetterList, DeadLetterSummary, Facet } from './admin-types.ts';

export interface DeadLetterFilter {
  readonly stream?: string;
  readonly code?: string;
  /** `<entity>.<feature>` whose mapping failed. */
  readonly feature?: string;
}

/** The most entries one request reads: listing and facets stay bounded however large the table. */
export const SCAN_BOUND = 50_000;
const PAGE = 1_000;

export function matches(entry: DeadLetter, filter: DeadLetterFilter): boolean {
  return (
    (filter.stream === undefined || entry.stream === filter.stream) &&
    (filter.code === undefined || entry.code === filter.code) &&
    (filter.feature === undefined || entry.feature === filter.feature)
  );
}

/** Walks the table oldest first from `after`, a page at a time, until `visit` says stop or SCAN_BOUND. */
async function scan(
  table: DeadLetterStore,
  after: string | undefined,
  visit: (entry: DeadLetter) => boolean,
): Promise<{ lastId: string | undefined; exhausted: boolean }> {
  let cursor = after;
  let scanned = 0;
  for (;;) {
    const page = await table.list({ limit: PAGE, ...(cursor === undefined ? {} : { after: cursor }) });
    for (const entry of page) {
      scanned++;
      cursor = entry.id;
      if (!visit(entry) || scanned >= SCAN_BOUND) return { lastId: cursor, exhausted: false };
    }
    if (page.length < PAGE) return { lastId: cursor, exhausted: true };
  }
}

/**
 * One page of dead letters, oldest first, that match `filter`, from after the cursor `after`. The
 * first page (no cursor) also counts streams, codes and features over the table (up to
 * SCAN_BOUND entries; `facets.complete` says whether it saw them all).
 */
export async function listDeadLetters(
  table: DeadLetterStore,
  filter: DeadLetterFilter,
  page: { readonly after?: string; readonly limit: number },
): Promise<DeadLetterList> {
  const items: DeadLetterSummary[] = [];
  const counting = page.after === undefined;
  const counts = {
    stream: new Map<string, number>(),
    code: new Map<string, number>(),
    feature: new Map<string, number>(),
  };
  let more = false;
  const { lastId, exhausted } = await scan(table, page.after, (entry) => {
    if (counting) {
      bump(counts.stream, entry.stream);
      bump(counts.code, entry.code);
      if (entry.feature !== undefined) bump(counts.feature, entry.feature);
    }
    if (!matches(entry, filter)) return true;
    if (items.length === page.limit) {
      more = true;
      return counting; // keep counting facets; the page is full
    }
    items.push(summary(entry));
    return true;
  });
  const last = items[items.length - 1];
  const next = more ? last?.id : exhausted ? undefined : lastId;
  return {
    items,
    ...(next === undefined ? {} : { next }),
    inTable: await table.count(),
    facets: {
      stream: toFacets(counts.stream),
      code: toFacets(counts.code),
      feature: toFacets(counts.feature),
      complete: counting && exhausted,
    },
  };
}

/** The ids of every dead letter matching `filter` (up to SCAN_BOUND), for a filtered replay. */
export async function matchingIds(table: DeadLetterStore, filter: DeadLetterFilter): Promise<string[]> {
  const ids: string[] = [];
  await scan(table, undefined, (entry) => {
    if (matches(entry, filter)) ids.push(entry.id);
    return true;
  });
  return ids;
}

export function summary(entry: DeadLetter): DeadLetterSummary {
  return {
    id: entry.id,
    at: entry.at,
    stream: entry.stream,
    topic: entry.topic,
    code: entry.code,
    feature: entry.feature ?? null,
    reason: entry.reason,
    origin: entry.origin,
    attempts: entry.attempts,
  };
}

export function detail(entry: DeadLetter): DeadLetterDetail {
  return { ...summary(entry), body: entry.body, raw: entry.raw ?? null };
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function toFacets(map: Map<string, number>): Facet[] {
  return [...map].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count);
}
