import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIngestor, type InProcessIngestor } from '../../src/ingest/ingestor.ts';
import type { IncomingEvent } from '../../src/ingest/types.ts';
import { UnparseableBody } from '../../src/ingest/unparseable.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { binding, entity, feature, field, filter, registry, stream } from '../support/registry-builder.ts';
import { openRealStores, type RealStores } from './real-stores.ts';

const NOW = Date.now();

function buildRegistry() {
  return registry({
    entities: [entity('user', { prefix: 'u:', idType: 'int' })],
    streams: [
      stream('client_event', { subTopicField: 'event_type', timestampField: 'ts', eventIdField: 'event_id' }),
    ],
    features: [
      feature('user', 'recent_view_articles', {
        featureType: 'action',
        maxCount: 10,
        events: [
          binding('client_event', 'cleansed', {
            subTopic: 'view_article_v1',
            filter: [filter('country_code', 'string', 'equal', ['kr'])],
            fields: [field('params.article_id_v1', 'int', { rename: 'article_id' })],
          }),
          binding('client_event', 'cleansed', {
            subTopic: 'view_article_v2',
            filter: [filter('country_code', 'string', 'equal', ['kr'])],
            fields: [field('params.article_id_v2', 'int', { rename: 'article_id' })],
          }),
        ],
      }),
      feature('user', 'os', {
        featureType: 'static',
        events: [binding('client_event', 'cleansed', { fields: [field('os', 'string')] })],
      }),
    ],
  });
}

function ev(body: unknown, extra: Partial<IncomingEvent> = {}): IncomingEvent {
  return { stream: 'client_event', topic: 'cleansed', body, receivedAt: NOW, ...extra };
}

function view(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: `e${n}`,
    event_type: 'view_article_v1',
    ts: NOW - 10_000 + n,
    user_id: 1,
    country_code: 'kr',
    os: 'ios',
    params: { article_id_v1: 100 + n },
    ...extra,
  };
}

describe('ingestor against the real LMDB store and dead-letter table', () => {
  let stores: RealStores;
  let holder: RegistryHolder;
  let ingestor: InProcessIngestor;

  beforeEach(async () => {
    stores = await openRealStores();
    holder = new RegistryHolder(buildRegistry());
    ingestor = createIngestor({ registry: holder, store: stores.store, deadLetters: stores.deadLetters });
  });
  afterEach(async () => {
    await stores.close();
  });

  async function rows(pk: string) {
    const [range] = await stores.store.getRanges([{ pk, count: 100, lastNSec: undefined }]);
    return range ?? [];
  }

  it('writes good events to every feature they feed, newest first', async () => {
    const report = await ingestor.ingest([
      ev(view(1)),
      ev(view(2, { event_type: 'view_article_v2', params: { article_id_v2: '202' }, os: 'android' })),
    ]);
    expect(report).toMatchObject({ accepted: 2, filtered: 0, rejected: 0, rejections: [] });
    expect(report.results.map((r) => [r.outcome, r.writes])).toEqual([
      ['written', 2],
      ['written', 2],
    ]);
    const stored = await rows('u:1#recent_view_articles');
    expect(stored.map((r) => [r.eventId, r.values.article_id])).toEqual([
      ['e2', 202],
      ['e1', 101],
    ]);
    const [os] = await stores.store.getStatic(['u:1#os']);
    // Both events hit `os` in one batch; the write order of the batch is kept, so the later wins.
    expect(os?.value).toBe('android');
  });

  it('rejects poison events alone, dead-letters them with reasons, and still writes the rest', async () => {
    const batch: IncomingEvent[] = [
      ev(view(1)), // 0 written
      ev(42), // 1 not an object
      ev(view(2, { user_id: undefined })), // 2 no entity id (both features reject)
      ev(view(3, { params: { article_id_v1: 'abc' } })), // 3 wrong type (os still written)
      ev(new UnparseableBody('{"user_id": 1,', 'Unexpected end of JSON input')), // 4 unparseable
      ev(view(5, { country_code: 'jp', os: undefined, event_type: 'other' })), // 5 routed to os only, os missing → rejected
      ev(view(6, { country_code: 'jp' })), // 6 filtered for views, os written → written
      ev({ event_type: 'unknown_type', user_id: 1 }, { topic: 'no_such_topic' }), // 7 routed nowhere → filtered
      ev(view(8, { ts: 'not a time' })), // 8 bad timestamp
      ev(view(9), { stream: 'no_such_stream' }), // 9 unknown stream
      ev([view(10)]), // 10 an array is not an event
      ev(view(11)), // 11 written
    ];
    const report = await ingestor.ingest(batch, { origin: 'test' });

    expect(report.accepted).toBe(3);
    expect(report.filtered).toBe(1);
    expect(report.rejected).toBe(8);
    expect(report.results.map((r) => r.outcome)).toEqual([
      'written',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'written',
      'filtered',
      'rejected',
      'rejected',
      'rejected',
      'written',
    ]);
    expect(report.rejections.map((r) => [r.index, r.code])).toEqual([
      [1, 'LARDER_ERR_EVENT_NOT_OBJECT'],
      [2, 'LARDER_ERR_EVENT_ENTITY_ID'],
      [3, 'LARDER_ERR_EVENT_TYPE'],
      [4, 'LARDER_ERR_EVENT_PARSE'],
      [5, 'LARDER_ERR_EVENT_MISSING_FIELD'],
      [8, 'LARDER_ERR_EVENT_TIMESTAMP'],
      [9, 'LARDER_ERR_UNKNOWN_STREAM'],
      [10, 'LARDER_ERR_EVENT_NOT_OBJECT'],
    ]);
    expect(report.rejections[2]).toMatchObject({ feature: 'user.recent_view_articles' });
    expect(report.results[2]?.rejections).toHaveLength(2);
    // Event 3: the action feature rejected it, the static one still wrote.
    expect(report.results[3]).toMatchObject({ outcome: 'rejected', writes: 1 });

    const stored = await rows('u:1#recent_view_articles');
    expect(stored.map((r) => r.eventId)).toEqual(['e11', 'e1']);

    const letters = await stores.deadLetters.list();
    expect(letters).toHaveLength(8);
    expect(letters.map((l) => l.code)).toEqual(report.rejections.map((r) => r.code));
    for (const letter of letters) expect(letter.origin).toBe('test');
    const unparsed = letters[3];
    expect(unparsed).toMatchObject({ raw: '{"user_id": 1,', body: '{"user_id": 1,', stream: 'client_event' });
    const twoFeatures = letters[1];
    expect(twoFeatures?.body).toEqual(batch[2]?.body);
    expect(twoFeatures?.feature).toBe('user.os,user.recent_view_articles');
    expect(twoFeatures?.reason).toContain('user.os:');
    expect(letters[6]).toMatchObject({ stream: 'no_such_stream', code: 'LARDER_ERR_UNKNOWN_STREAM' });

    expect(ingestor.counters).toMatchObject({
      batches: 1,
      written: 3,
      filtered: 1,
      rejected: 8,
      deadLettered: 8,
    });
  });

  it('is idempotent: the same batch twice leaves the same rows', async () => {
    const batch = [ev(view(1)), ev(view(2)), ev(view(3))];
    await ingestor.ingest(batch);
    await ingestor.ingest(batch);
    expect((await rows('u:1#recent_view_articles')).map((r) => r.eventId)).toEqual(['e3', 'e2', 'e1']);
  });

  it('gives events without an eventIdField a stable hash id', async () => {
    const reg = registry({
      entities: [entity('user', { prefix: 'u:', idType: 'int' })],
      streams: [stream('s')],
      features: [
        feature('user', 'clicks', {
          featureType: 'action',
          events: [binding('s', 't', { fields: [field('item', 'int')] })],
        }),
      ],
    });
    holder.replace(reg);
    const e = { stream: 's', topic: 't', body: { user_id: 5, item: 1 }, receivedAt: NOW };
    await ingestor.ingest([e]);
    await ingestor.ingest([{ ...e, body: { item: 1, user_id: 5 }, receivedAt: NOW + 1 }]);
    await ingestor.ingest([{ ...e, body: { user_id: 5, item: 2 } }]);
    const stored = await rows('u:5#clicks');
    expect(stored).toHaveLength(2);
    expect(new Set(stored.map((r) => r.values.item))).toEqual(new Set([1, 2]));
  });

  it('follows a registry reload on the next batch', async () => {
    await ingestor.ingest([ev(view(1))]);
    const next = registry({
      entities: [entity('user', { prefix: 'u:', idType: 'int' })],
      streams: [stream('client_event', { subTopicField: 'event_type' })],
      features: [
        feature('user', 'country', {
          featureType: 'static',
          events: [binding('client_event', 'cleansed', { fields: [field('country_code', 'string')] })],
        }),
      ],
    });
    holder.replace(next);
    const report = await ingestor.ingest([ev(view(2))]);
    expect(report.results[0]).toMatchObject({ outcome: 'written', writes: 1 });
    const [country] = await stores.store.getStatic(['u:1#country']);
    expect(country?.value).toBe('kr');
    expect((await rows('u:1#recent_view_articles')).map((r) => r.eventId)).toEqual(['e1']);
  });

  it('rejects the batch on a store outage and dead-letters nothing', async () => {
    await stores.store.close();
    await expect(ingestor.ingest([ev(view(1)), ev(42)])).rejects.toThrow();
    expect(await stores.deadLetters.count()).toBe(0);
    expect(ingestor.counters.batches).toBe(0);
  });

  it('resolves an empty batch without touching the store', async () => {
    const report = await ingestor.ingest([]);
    expect(report).toEqual({ accepted: 0, filtered: 0, rejected: 0, rejections: [], results: [] });
  });
});
