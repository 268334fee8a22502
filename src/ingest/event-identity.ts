import { hash } from 'node:crypto';
import { LarderError } from '../errors.ts';
import type { StreamDef } from '../registry/types.ts';
import { canonicalJson } from './canonical-json.ts';
import { describeValue } from './coerce.ts';
import { keyTextProblem, MAX_EVENT_ID_BYTES, MAX_EVENT_TS, MIN_EVENT_TS } from './event-bounds.ts';
import { compilePath } from './event-path.ts';
import type { IncomingEvent } from './types.ts';

/** The event time and the idempotency key of one event, shared by every feature it feeds. */
export interface EventIdentity {
  /** Event time, epoch ms. */
  readonly ts: number;
  readonly eventId: string;
  /**
   * True when `ts` came from the event itself (its timestamp field), so every delivery of the
   * event carries the same ts; false when it is the arrival time, which a redelivery changes.
   */
  readonly eventTime: boolean;
}

/** Reads the identity of an event; throws `LARDER_ERR_EVENT_TIMESTAMP` for an unreadable time. */
export type IdentityReader = (event: IncomingEvent, body: Record<string, unknown>) => EventIdentity;

/** Where the identity lives in an event; the matching fields of a stream (or a batch ingestion). */
export type IdentityFields = Pick<StreamDef, 'timestampField' | 'eventIdField'>;

/**
 * Compiles the identity reader of a stream:
 *
 * - time: the `timestampField` value as epoch ms (a number or a numeric string) or an ISO-8601
 *   string (UTC when it names no offset). When the stream has no timestampField, or the event
 *   lacks it, the arrival time (`receivedAt`) is used. A present but unreadable value is an error.
 * - id: the `eventIdField` value (string or number). When the stream has none, or the event lacks
 *   it, a hash of the event: its original bytes when the source kept them, else its canonical JSON.
 *   The same event therefore always gets the same id, so a redelivery rewrites the same row.
 */
export function compileIdentityReader(fields: IdentityFields): IdentityReader {
  const readTs = fields.timestampField === undefined ? undefined : compilePath(fields.timestampField);
  const readId = fields.eventIdField === undefined ? undefined : compilePath(fields.eventIdField);
  const timestampField = fields.timestampField ?? '';
  const eventIdField = fields.eventIdField ?? '';
  return (event, body) => {
    let ts = event.receivedAt;
    let eventTime = false;
    if (readTs !== undefined) {
      const raw = readTs(body);
      if (raw !== undefined && raw !== null) {
        ts = parseTimestamp(raw, timestampField);
        eventTime = true;
      }
    }
    let eventId: string | undefined;
    if (readId !== undefined) {
      const raw = readId(body);
      if (typeof raw === 'string' && raw !== '') eventId = checkedEventId(raw, eventIdField);
      else if (typeof raw === 'number' && Number.isFinite(raw)) eventId = String(raw);
    }
    return { ts, eventId: eventId ?? hashEvent(event.bytes, body), eventTime };
  };
}

// ISO-8601 date or date-time, with an optional offset (Z, +09:00 or +0900).
const ISO_8601 =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const EPOCH_STRING = /^\d+(\.\d+)?$/;

/** An event id that can be part of a store key; throws `LARDER_ERR_EVENT_ID` otherwise. */
function checkedEventId(id: string, field: string): string {
  const problem = keyTextProblem(id, MAX_EVENT_ID_BYTES);
  if (problem === undefined) return id;
  throw new LarderError('LARDER_ERR_EVENT_ID', `event id at "${field}" ${problem}`, { details: { field } });
}

/**
 * Parses an event time (epoch ms number, numeric string, or ISO-8601 string) into epoch ms.
 * Times outside the years 0000-9999 (`MIN_EVENT_TS`..`MAX_EVENT_TS`) are refused: they are
 * almost always micro- or nanoseconds, and past 2^53 they cannot even be stored exactly.
 */
export function parseTimestamp(raw: unknown, field: string): number {
  const ms = readTimestamp(raw);
  if (ms === undefined) {
    throw new LarderError(
      'LARDER_ERR_EVENT_TIMESTAMP',
      `timestamp field "${field}" must be epoch milliseconds or an ISO-8601 string, got ${describeValue(raw)}`,
      { details: { field } },
    );
  }
  if (ms < MIN_EVENT_TS || ms > MAX_EVENT_TS) {
    throw new LarderError(
      'LARDER_ERR_EVENT_TIMESTAMP',
      `timestamp field "${field}" is out of range, got ${describeValue(raw)}: event times are epoch ` +
        `milliseconds within the years 0000 to 9999 (at most ${MAX_EVENT_TS}); is it in micro- or nanoseconds?`,
      { details: { field } },
    );
  }
  return ms;
}

function readTimestamp(raw: unknown): number | undefined {
  // `+ 0` turns -0 (JSON can write it) into 0: a -0 key sorts where no range read finds it.
  if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) return Math.floor(raw) + 0;
  if (typeof raw === 'string') {
    const text = raw.trim();
    if (EPOCH_STRING.test(text)) return Math.floor(Number(text));
    const match = ISO_8601.exec(text);
    if (match !== null) {
      const [, date, time, offset] = match;
      let iso = time === undefined ? `${date}T00:00:00Z` : `${date}T${time.replace(',', '.')}`;
      if (time !== undefined) iso += normaliseOffset(offset);
      const ms = Date.parse(iso);
      if (Number.isFinite(ms)) return ms;
    }
  }
  return undefined;
}

function normaliseOffset(offset: string | undefined): string {
  // Without an offset, Date.parse would read local time; events are read as UTC so that the same
  // event lands on the same row whatever the server's time zone.
  if (offset === undefined || offset.toUpperCase() === 'Z') return 'Z';
  if (offset.length === 3) return `${offset}:00`;
  if (offset.length === 5) return `${offset.slice(0, 3)}:${offset.slice(3)}`;
  return offset;
}

/** The default event id: a SHA-1 of the original bytes, or of the canonical JSON of the body. */
export function hashEvent(bytes: string | Uint8Array | undefined, body: unknown): string {
  // One-shot `crypto.hash` (Node >= 20.12) is about 2x faster than createHash for small inputs.
  return hash('sha1', bytes ?? canonicalJson(body), 'base64url');
}
