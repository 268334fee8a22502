import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../serve/support/test-server.ts';
import { contentTypeHeader, fuzzRequests, runs, startFuzzServer } from './http-fuzz-support.ts';

/**
 * Fuzzing the HTTP push endpoint (`POST /v1/streams/:stream/:topic`) with generated bodies: one
 * event, an array or NDJSON lines (blank lines, CRLF, lines that are not JSON), events with real
 * and unknown names and fields, prototype keys (`__proto__`, `constructor`, ...), values nested up
 * to 200 levels, long strings, NUL and lone surrogates (escaped in JSON, and raw, which UTF-8 turns
 * into U+FFFD), number literals JSON.stringify never writes (`1e400`, `-0`, 30 digits), a byte
 * order mark, bytes that are not UTF-8, every content type, and stream and topic names that are
 * unknown or percent-encoded.
 *
 * Each answer must be bounded (http-fuzz-support.ts). A 200 must account for every event it was
 * sent: accepted + filtered + rejected is the number of events, the listed rejections are the
 * first of them, and `rejectionsByCode` adds up to `rejected`. A probe read follows each request.
 *
 * Event timestamps at or past 2^53 ms and entity or event ids the store cannot key (NUL, longer
 * than ~1,900 bytes) are generated too: the event checks before the store reject each such event
 * alone (issue 14), so they count as rejected and never fail the batch.
 */

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];
const NAMES = ['app_open', 'view', 'search', 'kw', 'region', 'nope', ''];

/** JSON text of a value nested `depth` levels deep. */
const nested = fc
  .tuple(fc.integer({ min: 1, max: 200 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`);

/** JSON text of a number, including literals JSON.stringify never writes. */
const numberText = fc.oneof(
  fc.integer({ min: 1, max: 60 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom(
    '1e400',
    '-1e400',
    '-0',
    '0.1e-400',
    '123456789012345678901234567890',
    '2147483648',
    '1E2',
    '1.0',
  ),
);

const stringText = fc.oneof(
  { weight: 12, arbitrary: fc.string({ maxLength: 30 }).map((s) => JSON.stringify(s)) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => JSON.stringify(s)) },
  {
    weight: 3,
    arbitrary: fc.constantFrom('"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"\\udfff\\ud800"', '"\\\\"'),
  },
  // Raw lone surrogates and NUL in the text itself (UTF-8 encoding turns a lone surrogate into U+FFFD).
  { weight: 1, arbitrary: fc.constantFrom('"\ud800"', '"x\u0000y"', '"\uffff"') },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1_000, max: 100_000 }).map((n) => JSON.stringify('x'.repeat(n))),
  },
);

/** Id-like strings, including ones the store cannot key (NUL, longer than its key limit). */
const shortStringText = fc
  .oneof(
    { weight: 6, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 2, arbitrary: fc.constantFrom('\ud800', '\udfff\ud800', '\\', '', 'a\u0000b', '\u0000') },
    { weight: 1, arbitrary: fc.integer({ min: 1_900, max: 5_000 }).map((n) => 'k'.repeat(n)) },
  )
  .map((s) => JSON.stringify(s));

const timestampText = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }).map(String) },
  { weight: 1, arbitrary: fc.integer({ min: -(10 ** 13), max: 10 ** 13 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '9007199254740992',
      '9007199254740993',
      '1e20',
      '8640000000000001',
      '-8640000000000001',
      '"+275760-09-13T00:00:00.001Z"',
      '"2024-01-02T03:04:05Z"',
      '"not a date"',
      '"2024-13-45"',
      'null',
      '[]',
      '{}',
      '1.5',
    ),
  },
);

const idText = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 50 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0',
      '-1',
      '1.5',
      '"7"',
      '"x"',
      'null',
      'true',
      '[1]',
      '{}',
      '1e400',
      '-0',
      '9007199254740993',
    ),
  },
  { weight: 1, arbitrary: shortStringText },
);

const valueText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: stringText },
  { weight: 2, arbitrary: numberText },
  { weight: 1, arbitrary: nested },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null') },
);

/** One event as JSON text: real fields mostly, extra and prototype keys sometimes. */
const eventText = fc
  .record(
    {
      name: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...NAMES).map((n) => JSON.stringify(n)) },
        valueText,
      ),
      user_id: idText,
      os: valueText,
      keyword: valueText,
      region_id: numberText,
      article_id: idText,
      ts: timestampText,
      event_id: fc.oneof(
        fc.uuid().map((u) => JSON.stringify(u)),
        shortStringText,
      ),
      extra: fc.array(
        fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 8 })), valueText),
        {
          maxLength: 4,
        },
      ),
    },
    { requiredKeys: ['name', 'user_id', 'ts'] },
  )
  .map((fields) => {
    const pairs = Object.entries(fields).flatMap(([key, value]) =>
      key === 'extra'
        ? (value as [string, string][]).map(([k, v]) => `${JSON.stringify(k)}:${v}`)
        : [`${JSON.stringify(key)}:${value as string}`],
    );
    return `{${pairs.join(',')}}`;
  });

const notAnEvent = fc.oneof(numberText, stringText, fc.constantFrom('null', '[]', 'true', '{}', '[[]]'));

type Framed = { readonly text: string; readonly events: number | undefined; readonly contentType: string };

/** A body and, where the framing makes it known, how many events it holds. */
const framed: fc.Arbitrary<Framed> = fc.oneof(
  { weight: 3, arbitrary: eventText.map((text) => ({ text, events: 1, contentType: 'application/json' })) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof({ weight: 5, arbitrary: eventText }, notAnEvent), { maxLength: 40 })
      .map((list) => ({ text: `[${list.join(',')}]`, events: list.length, contentType: 'application/json' })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.array(fc.oneof({ weight: 5, arbitrary: eventText }, notAnEvent, fc.string({ maxLength: 20 })), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.constantFrom('\n', '\r\n', '\n\n'),
        fc.constantFrom('application/x-ndjson', 'application/jsonl', 'text/plain'),
      )
      .map(([lines, eol, contentType]) => {
        const kept = lines.map((l) => l.replace(/[\r\n]/g, ' '));
        const events = kept.filter((l) => l.trim() !== '').length;
        // text/plain with a single line is read as one JSON value: its count is not known here.
        return {
          text: kept.join(eol),
          events: contentType === 'text/plain' ? undefined : events,
          contentType,
        };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(eventText, fc.constantFrom('\ufeff', ' ', '\u0000', '\t\n'))
      .map(([text, prefix]) => ({ text: prefix + text, events: undefined, contentType: 'application/json' })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.constantFrom('application/json', 'text/plain', ''),
      )
      .map(([text, contentType]) => ({ text, events: undefined, contentType })),
  },
);

const route = fc.oneof(
  { weight: 8, arbitrary: fc.constant('/v1/streams/ev/t') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '/v1/streams/ev/cdc',
      '/v1/streams/%65v/t',
      '/v1/streams/nope/t',
      '/v1/streams/ev/%00',
      '/v1/streams/ev/t%2Fx',
    ),
  },
);

interface PushAnswer {
  readonly accepted: number;
  readonly filtered: number;
  readonly rejected: number;
  readonly rejections: readonly { readonly index: number; readonly code: string }[];
  readonly rejectionsByCode: Readonly<Record<string, number>>;
  readonly rejectionsOmitted: number;
}

describe('fuzzing POST /v1/streams/:stream/:topic', { timeout: 120_000 }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startFuzzServer();
  });
  afterAll(() => server?.close());

  it('answers any body boundedly, accounts for every event, and keeps serving', () =>
    fuzzRequests(server, {
      name: 'POST /v1/streams',
      // Now and then raw bytes that are not UTF-8 at all (a lone 0xff, a cut multi-byte sequence).
      inputs: fc.tuple(
        framed,
        route,
        fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
      ),
      numRuns: runs(400),
      request: ([body, path, asBytes]) => ({
        method: 'POST',
        path,
        headers: contentTypeHeader(body.contentType),
        body: asBytes
          ? Buffer.concat([Buffer.from(body.text, 'utf8'), Buffer.from([0xff, 0xe2, 0x82])])
          : body.text,
      }),
      served: (answer, [body, , asBytes], what) => {
        const counts = JSON.parse(answer.text) as PushAnswer;
        const total = counts.accepted + counts.filtered + counts.rejected;
        if (body.events !== undefined && !asBytes) expect(total, what).toBe(body.events);
        expect(counts.rejections.length + counts.rejectionsOmitted, what).toBe(counts.rejected);
        expect(
          Object.values(counts.rejectionsByCode).reduce((a, b) => a + b, 0),
          what,
        ).toBe(counts.rejected);
        for (const r of counts.rejections) expect(r.code, what).toMatch(/^LARDER_ERR_[A-Z_]+$/);
      },
    }));
});
