import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeValue } from '../../src/ingest/coerce.ts';
import { deepJsonText } from '../../src/ingest/deep-json.ts';
import { MAX_EVENT_DEPTH } from '../../src/ingest/event-bounds.ts';
import { createIngestor, type InProcessIngestor } from '../../src/ingest/ingestor.ts';
import type { IncomingEvent } from '../../src/ingest/types.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { binding, entity, feature, field, registry, stream } from '../support/registry-builder.ts';
import { openRealStores, type RealStores } from './real-stores.ts';

const NOW = Date.now();

/** A string-id entity, an action feature keeping a json payload, and a static one. */
function buildRegistry() {
  return registry({
    entities: [entity('user', { prefix: 'u:', idType: 'string' })],
    streams: [stream('s', { timestampField: 'ts', eventIdField: 'event_id' })],
    features: [
      feature('user', 'clicks', {
        featureType: 'action',
        maxCount: 100,
        events: [binding('s', 't', { fields: [field('payload', 'json', { required: false })] })],
      }),
    ],
  });
}

function ev(body: unknown): IncomingEvent {
  return { stream: 's', topic: 't', body, receivedAt: NOW };
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

const good = (n: number): Record<string, unknown> => ({ user_id: 'good', event_id: `g${n}`, ts: NOW - n });

describe('every event is checked before the store sees it; a bad one is rejected alone', () => {
  let stores: RealStores;
  let ingestor: InProcessIngestor;

  beforeEach(async () => {
    stores = await openRealStores();
    ingestor = createIngestor({
      registry: new RegistryHolder(buildRegistry()),
      store: stores.store,
      deadLetters: stores.deadLetters,
    });
  });
  afterEach(async () => {
    await stores.close();
  });

  async function goodRows(): Promise<string[]> {
    const [rows] = await stores.store.getRanges([{ pk: 'u:good#clicks', count: 100, lastNSec: undefined }]);
    return (rows ?? []).map((r) => r.eventId);
  }

  it.each([
    [
      'a timestamp at 2^53',
      { user_id: 'a', event_id: 'x', ts: 2 ** 53 },
      'LARDER_ERR_EVENT_TIMESTAMP',
      /out of range/,
    ],
    [
      'a timestamp past year 9999',
      { user_id: 'a', event_id: 'x', ts: 253402300800000 },
      'LARDER_ERR_EVENT_TIMESTAMP',
      /out of range/,
    ],
    [
      'a NUL in the entity id',
      { user_id: 'a\u0000b', event_id: 'x', ts: 1 },
      'LARDER_ERR_EVENT_ENTITY_ID',
      /NUL/,
    ],
    [
      'an entity id of 2,000 bytes',
      { user_id: 'é'.repeat(1000), event_id: 'x', ts: 1 },
      'LARDER_ERR_EVENT_ENTITY_ID',
      /2000 bytes; at most 1024/,
    ],
    [
      'a lone surrogate in the entity id',
      { user_id: 'a\ud800', event_id: 'x', ts: 1 },
      'LARDER_ERR_EVENT_ENTITY_ID',
      /lone surrogate/,
    ],
    ['a NUL in the event id', { user_id: 'a', event_id: 'x\u0000', ts: 1 }, 'LARDER_ERR_EVENT_ID', /NUL/],
    [
      'an event id of 600 bytes',
      { user_id: 'a', event_id: 'x'.repeat(600), ts: 1 },
      'LARDER_ERR_EVENT_ID',
      /600 bytes; at most 512/,
    ],
    [
      'an event nested 10,000 deep',
      { user_id: 'a', event_id: 'x', ts: 1, payload: nested(10_000) },
      'LARDER_ERR_EVENT_TOO_DEEP',
      /more than 64 levels/,
    ],
    [
      'deep nesting in a field no feature reads',
      { user_id: 'a', event_id: 'x', ts: 1, other: nested(200) },
      'LARDER_ERR_EVENT_TOO_DEEP',
      /more than 64 levels/,
    ],
  ])('%s: rejected and dead-lettered alone, the good events written', async (_name, bad, code, message) => {
    const report = await ingestor.ingest([ev(good(1)), ev(bad), ev(good(2))]);
    expect(report.accepted).toBe(2);
    expect(report.rejected).toBe(1);
    expect(report.rejections).toEqual([
      expect.objectContaining({ index: 1, code, message: expect.stringMatching(message) }),
    ]);
    expect(await goodRows()).toEqual(['g1', 'g2']);
    const letters = await stores.deadLetters.list();
    expect(letters.map((l) => l.code)).toEqual([code]);
  });

  it('reads a timestamp of -0 as 0, so its row can be read back', async () => {
    const report = await ingestor.ingest([ev(JSON.parse('{"user_id": "good", "event_id": "z", "ts": -0}'))]);
    expect(report.accepted).toBe(1);
    const [rows] = await stores.store.getRanges([{ pk: 'u:good#clicks', count: 10, lastNSec: undefined }]);
    expect(rows?.map((r) => [r.eventId, Object.is(r.ts, -0) ? '-0' : r.ts])).toEqual([['z', 0]]);
  });

  it('accepts an event nested exactly to the bound', async () => {
    // The event object itself is level 1: its payload may nest MAX_EVENT_DEPTH - 1 more levels.
    const report = await ingestor.ingest([ev({ ...good(1), payload: nested(MAX_EVENT_DEPTH - 1) })]);
    expect(report).toMatchObject({ accepted: 1, rejected: 0 });
  });

  it('keeps a too-deep event in the dead-letter table as text', async () => {
    await ingestor.ingest([ev({ user_id: 'a', event_id: 'x', ts: 1, payload: nested(5_000) })]);
    const [letter] = await stores.deadLetters.list();
    expect(typeof letter?.raw).toBe('string');
    expect(letter?.raw?.startsWith('{"user_id":"a","event_id":"x","ts":1,"payload":{"a":{"a"')).toBe(true);
  });
});

describe('describeValue', () => {
  it('says what a number beyond the float range became, instead of "number null"', () => {
    expect(describeValue(JSON.parse('1e400'))).toBe('number Infinity (beyond the range of a 64-bit float)');
    expect(describeValue(JSON.parse('-1e400'))).toBe('number -Infinity (beyond the range of a 64-bit float)');
    expect(describeValue(2 ** 53)).toBe('number 9007199254740992');
  });

  it('describes a value too deep to print without throwing', () => {
    expect(describeValue(nested(100_000))).toMatch(/^object /);
  });
});

describe('deepJsonText', () => {
  it('writes what JSON.stringify writes, however deep the value', () => {
    const samples: unknown[] = [
      null,
      1.5,
      'a"\u0000',
      [],
      {},
      [1, [2, []], { a: {} }],
      { a: [1, { b: null, c: 'x' }], d: undefined, e: true },
      JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}'),
    ];
    for (const sample of samples) expect(deepJsonText(sample)).toBe(JSON.stringify(sample));
    const deep = deepJsonText(nested(200_000));
    expect(deep.length).toBe(200_000 * 6 + 1);
    expect(deep.startsWith('{"a":{"a":')).toBe(true);
  });
});
