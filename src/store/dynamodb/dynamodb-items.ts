/**
 * The DynamoDB item layout. One table, three kinds of item under a partition key `pk`
 * (`<prefix><id>#<group>`):
 *
 * | item        | `sk` (table sort key) | `rk` (LSI `by_time` sort key)      | other attributes         |
 * |-------------|-----------------------|------------------------------------|--------------------------|
 * | static      | `#` (the null marker) | —                                  | `k` kind, `t` ts, `v`, `ver` |
 * | action row  | `e#<eventId>`         | `<17-digit ts+2^53>[.frac]#<eventId>` | `ts`, `v`                |
 *
 * and on any item with a TTL: `exp` (epoch seconds, DynamoDB's native TTL attribute) and `xms`
 * (epoch ms, exact, for filtering on read: native TTL deletes up to days late).
 *
 * Why the event id, not the time, is the table sort key of a row: it makes an append idempotent by
 * event id in one write with no read. A redelivered event rewrites the same item even when its
 * ts changed (arrival time used as event time); the sparse local secondary index `by_time` then
 * orders the pk's rows by time, with equal times kept apart and ordered by event id, so range
 * reads are a single newest-first `Query` on the index with `Limit` and a key condition for
 * `lastNSec`. Static items carry no `rk`, so they never appear in the index.
 */
import { Packr } from 'msgpackr';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ActionAppend, ActionRow } from '../online-store.ts';
// Loaded for its msgpack extension: vectors go into `v` (a Binary attribute) as float32 bytes.
import '../../keys/float-vector.ts';

type Item = Record<string, AttributeValue>;

export const STATIC_SK = '#';
export const ROW_SK_PREFIX = 'e#';
export const TIME_INDEX = 'by_time';

/**
 * Shifts any safe-integer epoch ms (negative too) into a non-negative 17-digit number. BigInt,
 * because the sum passes 2^53, where doubles stop holding every integer.
 */
const TS_OFFSET = 2n ** 53n;

// Records off: stored bytes must depend on the value alone, never on encoder state.
const packr = new Packr({ useRecords: false });

export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function decodeValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** The time part of `rk`: sorts as the number sorts, fractions included. */
export function timeKey(ts: number): string {
  const whole = Math.floor(ts);
  const head = (BigInt(whole) + TS_OFFSET).toString().padStart(17, '0');
  const frac = ts - whole;
  return frac === 0 ? head : `${head}${String(frac).slice(1)}`;
}

/** The lowest `rk` of rows with `ts >= minTs`. */
export function timeLowerBound(minTs: number): string {
  return timeKey(minTs);
}

export function rowItem(write: ActionAppend): Item {
  const { row } = write;
  const item: Item = {
    pk: { S: write.pk },
    sk: { S: ROW_SK_PREFIX + row.eventId },
    rk: { S: `${timeKey(row.ts)}#${row.eventId}` },
    ts: { N: String(row.ts) },
    v: { B: encodeValue(row.values) },
  };
  if (write.ttlMs !== undefined) Object.assign(item, expiryAttributes(row.ts + write.ttlMs));
  return item;
}

export function rowFromItem(item: Item): ActionRow {
  return {
    ts: Number(item.ts?.N),
    eventId: (item.sk?.S ?? '').slice(ROW_SK_PREFIX.length),
    values: decodeValue(item.v?.B ?? new Uint8Array()) as Record<string, unknown>,
  };
}

export function expiryAttributes(expiresAtMs: number): Item {
  return { exp: { N: String(Math.ceil(expiresAtMs / 1000)) }, xms: { N: String(expiresAtMs) } };
}

/** Expiry of an item in epoch ms, or null for never. */
export function expiresAt(item: Item): number | null {
  const xms = item.xms?.N;
  return xms === undefined ? null : Number(xms);
}

export function isExpiredItem(item: Item, now: number): boolean {
  const at = expiresAt(item);
  return at !== null && at <= now;
}

export function staticKey(pk: string): Item {
  return { pk: { S: pk }, sk: { S: STATIC_SK } };
}
