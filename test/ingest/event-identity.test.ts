import { describe, expect, it } from 'vitest';
import { compileEntityIdReader } from '../../src/ingest/entity-id.ts';
import { compileIdentityReader, hashEvent, parseTimestamp } from '../../src/ingest/event-identity.ts';
import type { IncomingEvent } from '../../src/ingest/types.ts';
import { LarderError } from '../../src/errors.ts';

function incoming(body: Record<string, unknown>, extra: Partial<IncomingEvent> = {}): IncomingEvent {
  return { stream: 's', topic: 't', body, receivedAt: 1_000, ...extra };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof LarderError ? err.code : 'not a LarderError';
  }
  return undefined;
}

describe('event timestamps', () => {
  it.each([
    [1700000000123, 1700000000123],
    [1700000000123.9, 1700000000123],
    ['1700000000123', 1700000000123],
    ['2023-11-14T22:13:20.123Z', 1700000000123],
    ['2023-11-14T22:13:20Z', 1700000000000],
    ['2023-11-15T07:13:20+09:00', 1700000000000],
    ['2023-11-15T07:13:20+0900', 1700000000000],
    ['2023-11-14T22:13:20', 1700000000000],
    ['2023-11-14 22:13:20', 1700000000000],
    ['2023-11-14', Date.UTC(2023, 10, 14)],
  ])('reads %j', (raw, expected) => {
    expect(parseTimestamp(raw, 'ts')).toBe(expected);
  });

  it.each([['yesterday'], [''], [true], [{ t: 1 }], [-5], ['2023-13-45T99:99:99Z']])('refuses %j', (raw) => {
    expect(codeOf(() => parseTimestamp(raw, 'ts'))).toBe('LARDER_ERR_EVENT_TIMESTAMP');
  });

  it('uses the timestampField, else arrival time, and says which', () => {
    const withField = compileIdentityReader({ timestampField: 'meta.at', eventIdField: undefined });
    const own = withField(incoming({ meta: { at: '2023-11-14T22:13:20Z' } }), {
      meta: { at: '2023-11-14T22:13:20Z' },
    });
    expect([own.ts, own.eventTime]).toEqual([1700000000000, true]);
    const missing = withField(incoming({}), {});
    expect([missing.ts, missing.eventTime]).toEqual([1_000, false]);
    const without = compileIdentityReader({ timestampField: undefined, eventIdField: undefined });
    const arrival = without(incoming({ ts: 5 }), { ts: 5 });
    expect([arrival.ts, arrival.eventTime]).toEqual([1_000, false]);
  });

  it('rejects a present but unreadable timestamp', () => {
    const read = compileIdentityReader({ timestampField: 'ts', eventIdField: undefined });
    expect(codeOf(() => read(incoming({ ts: 'soon' }), { ts: 'soon' }))).toBe('LARDER_ERR_EVENT_TIMESTAMP');
  });
});

describe('event ids', () => {
  it('uses the eventIdField when present (string or number)', () => {
    const read = compileIdentityReader({ timestampField: undefined, eventIdField: 'event_id' });
    expect(read(incoming({ event_id: 'e-1' }), { event_id: 'e-1' }).eventId).toBe('e-1');
    expect(read(incoming({ event_id: 17 }), { event_id: 17 }).eventId).toBe('17');
  });

  it('hashes the bytes when given, stable for the same bytes', () => {
    const read = compileIdentityReader({ timestampField: undefined, eventIdField: undefined });
    const bytes = '{"a":1,"b":2}';
    const a = read(incoming({ a: 1, b: 2 }, { bytes }), { a: 1, b: 2 }).eventId;
    const b = read(incoming({ a: 1, b: 2 }, { bytes: Buffer.from(bytes) }), { a: 1, b: 2 }).eventId;
    expect(a).toBe(b);
    expect(a).toBe(hashEvent(bytes, undefined));
    const other = read(incoming({ a: 1, b: 3 }, { bytes: '{"a":1,"b":3}' }), { a: 1, b: 3 }).eventId;
    expect(other).not.toBe(a);
  });

  it('hashes canonical JSON without bytes: key order does not matter, content does', () => {
    const read = compileIdentityReader({ timestampField: undefined, eventIdField: 'missing' });
    const a = read(incoming({ a: 1, b: { c: 2, d: 3 } }), { a: 1, b: { c: 2, d: 3 } }).eventId;
    const b = read(incoming({ b: { d: 3, c: 2 }, a: 1 }), { b: { d: 3, c: 2 }, a: 1 }).eventId;
    const c = read(incoming({ a: 2, b: { c: 2, d: 3 } }), { a: 2, b: { c: 2, d: 3 } }).eventId;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{27}$/);
  });
});

describe('entity ids', () => {
  const intEntity = { name: 'user', idType: 'int' as const };
  const stringEntity = { name: 'article', idType: 'string' as const };

  it('canonicalises int ids', () => {
    const read = compileEntityIdReader(intEntity, 'user_id');
    expect(read({ user_id: 7 })).toBe('7');
    expect(read({ user_id: '007' })).toBe('7');
    expect(read({ user_id: ' 12 ' })).toBe('12');
    expect(read({ user_id: '123456789012345678901234' })).toBe('123456789012345678901234');
  });

  it.each([
    [{ user_id: 1.5 }],
    [{ user_id: 'abc' }],
    [{ user_id: true }],
    [{}],
    [{ user_id: null }],
    [{ user_id: 2 ** 60 }],
  ])('refuses int id in %j', (body) => {
    const read = compileEntityIdReader(intEntity, 'user_id');
    expect(codeOf(() => read(body))).toBe('LARDER_ERR_EVENT_ENTITY_ID');
  });

  it('reads string ids at dotted paths, accepting numbers', () => {
    const read = compileEntityIdReader(stringEntity, 'params.article_id');
    expect(read({ params: { article_id: 'a-1' } })).toBe('a-1');
    expect(read({ params: { article_id: 99 } })).toBe('99');
    expect(codeOf(() => read({ params: {} }))).toBe('LARDER_ERR_EVENT_ENTITY_ID');
    expect(codeOf(() => read({ params: { article_id: '' } }))).toBe('LARDER_ERR_EVENT_ENTITY_ID');
    expect(codeOf(() => read({ params: { article_id: { x: 1 } } }))).toBe('LARDER_ERR_EVENT_ENTITY_ID');
  });

  it('names the entity and the path in the message', () => {
    const read = compileEntityIdReader(intEntity, 'uid');
    expect(() => read({})).toThrow(/user.*"uid".*missing/);
  });
});
