/**
 * How entries are laid out in Redis. Keys carry the pk in a hash tag (`{pk}`), so an entry and its
 * lease always share a slot (Redis Cluster runs a script only on keys of one slot).
 *
 * - static group, `<ns>d:{pk}`: a plain string `<ts|N>|<softExpiresAt>|<loadMs>|<msgpack value>`;
 *   `N` marks a negative entry (the store has no value). The text header lets the write-through
 *   script compare event times without decoding msgpack.
 * - action group, `<ns>d:{pk}`: a sorted set, score = row ts, member = `<eventId>\0<msgpack values>`,
 *   plus one meta member `\u0001<softExpiresAt>|<loadMs>` at score +inf. The meta member marks
 *   the set as the pk's complete list (an empty list is a set holding only it); one
 *   `ZREVRANGEBYSCORE +inf <min> WITHSCORES LIMIT 0 count+1` returns it first, with the rows, in
 *   a single atomic command. Equal-score members come back in reverse byte order, i.e. by event id
 *   descending, as the stores order equal times.
 * - lease, `<ns>l:{pk}`: a token with a short TTL, set before a miss is loaded from the store.
 */
import { Packr } from 'msgpackr';
import type { ActionRow, StaticValue } from '../store/online-store.ts';
import type { EntryFreshness, StaticHit } from './cache-level.ts';
// Loaded for its msgpack extension: vectors are cached as float32 bytes.
import '../keys/float-vector.ts';

const packr = new Packr({ useRecords: false });
const PIPE = 0x7c; // '|'
const NUL = 0x00;
export const META_PREFIX = '\u0001';

export function dataKey(ns: string, pk: string): string {
  return `${ns}d:{${pk}}`;
}

export function leaseKey(ns: string, pk: string): string {
  return `${ns}l:{${pk}}`;
}

export function encodeStaticEntry(value: StaticValue | undefined, fresh: EntryFreshness): Buffer {
  const head = Buffer.from(`${value === undefined ? 'N' : value.ts}|${fresh.softExpiresAt}|${fresh.loadMs}|`);
  return value === undefined ? head : Buffer.concat([head, packr.pack(value.value)]);
}

/** The payload of a single value, for the write-through script (it writes the header itself). */
export function encodeSinglePayload(value: unknown): Buffer {
  return packr.pack(value);
}

export function decodeStaticEntry(buf: Buffer): StaticHit | undefined {
  const p1 = buf.indexOf(PIPE);
  const p2 = p1 < 0 ? -1 : buf.indexOf(PIPE, p1 + 1);
  const p3 = p2 < 0 ? -1 : buf.indexOf(PIPE, p2 + 1);
  if (p3 < 0) return undefined;
  const tsText = buf.toString('latin1', 0, p1);
  const softExpiresAt = Number(buf.toString('latin1', p1 + 1, p2));
  const loadMs = Number(buf.toString('latin1', p2 + 1, p3));
  if (tsText === 'N') return { value: undefined, softExpiresAt, loadMs };
  return {
    value: { value: packr.unpack(buf, { start: p3 + 1 }), ts: Number(tsText) },
    softExpiresAt,
    loadMs,
  };
}

export function encodeRowMember(row: ActionRow): Buffer {
  return Buffer.concat([Buffer.from(row.eventId), Buffer.of(NUL), packr.pack(row.values)]);
}

export function decodeRowMember(member: Buffer, score: Buffer): ActionRow {
  const nul = member.indexOf(NUL);
  return {
    ts: Number(score.toString('latin1')),
    eventId: member.toString('utf8', 0, nul),
    values: packr.unpack(member, { start: nul + 1 }) as Record<string, unknown>,
  };
}

export function encodeMeta(fresh: EntryFreshness): string {
  return `${META_PREFIX}${fresh.softExpiresAt}|${fresh.loadMs}`;
}

export function decodeMeta(member: Buffer): EntryFreshness {
  const text = member.toString('latin1', 1);
  const bar = text.indexOf('|');
  return { softExpiresAt: Number(text.slice(0, bar)), loadMs: Number(text.slice(bar + 1)) };
}

/** Whether a WITHSCORES score is +inf (the meta member). */
export function isInfScore(score: Buffer): boolean {
  return score.length === 3 && score.toString('latin1') === 'inf';
}
