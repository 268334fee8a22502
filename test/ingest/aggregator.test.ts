import { describe, expect, it } from 'vitest';
import { compileMapping, type MapOutcome } from '../../src/ingest/aggregator.ts';
import type { EventBinding, FeatureDef } from '../../src/registry/types.ts';
import type { StaticWrite, StoreWrite } from '../../src/store/online-store.ts';
import { binding, entity, feature, field, filter } from '../support/registry-builder.ts';

const user = entity('user', { prefix: 'u:', idType: 'int' });
const identity = { ts: 1700000000123, eventId: 'e1', eventTime: true };

function mapOne(
  f: FeatureDef,
  body: Record<string, unknown>,
  b: EventBinding = f.events[0] as EventBinding,
): MapOutcome {
  return compileMapping({
    entity: user,
    feature: f,
    binding: b,
    entityIdPath: b.entityIdField ?? user.idField,
  }).map(body, identity);
}

function written(outcome: MapOutcome): StoreWrite {
  if (outcome.outcome !== 'written') throw new Error(`expected written, got ${JSON.stringify(outcome)}`);
  return outcome.write;
}

function mutation(outcome: MapOutcome): StaticWrite['mutation'] {
  const write = written(outcome);
  if (write.kind !== 'static') throw new Error('expected a static write');
  return write.mutation;
}

describe('aggregator: action features', () => {
  const views = feature('user', 'recent_view_articles', {
    featureType: 'action',
    maxCount: 50,
    ttlMs: 86_400_000,
    events: [
      binding('client_event', 'client_event_cleansed', {
        subTopic: 'view_article_v1',
        filter: [filter('country_code', 'string', 'equal', ['kr'])],
        fields: [
          field('params.article_id_v1', 'int', { rename: 'article_id' }),
          field('params.source', 'string', { required: false }),
        ],
      }),
    ],
  });

  it('filters, extracts dotted paths, renames, coerces and appends a row', () => {
    const write = written(
      mapOne(views, { user_id: '42', country_code: 'kr', params: { article_id_v1: '1001', source: 'feed' } }),
    );
    expect(write).toEqual({
      kind: 'action',
      pk: 'u:42#recent_view_articles',
      row: { ts: 1700000000123, eventId: 'e1', values: { article_id: 1001, source: 'feed' } },
      maxCount: 50,
      ttlMs: 86_400_000,
      stableTs: true,
    });
  });

  it('stores null for a missing optional field', () => {
    const write = written(mapOne(views, { user_id: 1, country_code: 'kr', params: { article_id_v1: 5 } }));
    expect(write.kind === 'action' && write.row.values).toEqual({ article_id: 5, source: null });
  });

  it('filters an event that fails the filter', () => {
    expect(mapOne(views, { user_id: 1, country_code: 'jp', params: { article_id_v1: 5 } })).toEqual({
      outcome: 'filtered',
    });
  });

  it('rejects a missing required field, a wrong type and a missing id, naming the feature', () => {
    const missing = mapOne(views, { user_id: 1, country_code: 'kr', params: {} });
    expect(missing).toMatchObject({
      outcome: 'rejected',
      rejection: { code: 'LARDER_ERR_EVENT_MISSING_FIELD', feature: 'user.recent_view_articles' },
    });
    const wrongType = mapOne(views, { user_id: 1, country_code: 'kr', params: { article_id_v1: 'abc' } });
    expect(wrongType).toMatchObject({ outcome: 'rejected', rejection: { code: 'LARDER_ERR_EVENT_TYPE' } });
    const noId = mapOne(views, { country_code: 'kr', params: { article_id_v1: 1 } });
    expect(noId).toMatchObject({ outcome: 'rejected', rejection: { code: 'LARDER_ERR_EVENT_ENTITY_ID' } });
  });

  it('checks the filter before the entity id: a filtered event needs no id', () => {
    expect(mapOne(views, { country_code: 'us' })).toEqual({ outcome: 'filtered' });
  });

  it("uses the binding's entityIdField over the entity's idField", () => {
    const f = feature('user', 'sellers', {
      featureType: 'action',
      events: [binding('s', 't', { entityIdField: 'seller.id', fields: [field('price', 'float')] })],
    });
    const write = written(mapOne(f, { user_id: 1, seller: { id: 9 }, price: '3.5' }));
    expect(write.pk).toBe('u:9#sellers');
  });
});

describe('aggregator: static containers', () => {
  it('single with one field writes the value itself', () => {
    const os = feature('user', 'os', {
      featureType: 'static',
      events: [binding('s', 't', { fields: [field('os', 'string')] })],
    });
    const write = written(mapOne(os, { user_id: 3, os: 'ios' }));
    expect(write).toEqual({
      kind: 'static',
      pk: 'u:3#os',
      container: 'single',
      mutation: { op: 'set', value: 'ios' },
      ts: 1700000000123,
      ttlMs: undefined,
      maxCount: 100,
    });
  });

  it('single with several fields writes an object', () => {
    const region = feature('user', 'region', {
      featureType: 'static',
      events: [
        binding('s', 't', {
          fields: [field('geo.id', 'int', { rename: 'region_id' }), field('geo.name', 'string')],
        }),
      ],
    });
    expect(mutation(mapOne(region, { user_id: 3, geo: { id: '12', name: 'Seoul' } }))).toEqual({
      op: 'set',
      value: { region_id: 12, name: 'Seoul' },
    });
  });

  it('set adds with one binding and removes with another', () => {
    const keywords = feature('user', 'keywords', {
      featureType: 'static',
      containerType: 'set',
      events: [
        binding('s', 'alerts', { subTopic: 'add', fields: [field('keyword', 'string')] }),
        binding('s', 'alerts', { subTopic: 'remove', op: 'remove', fields: [field('keyword', 'string')] }),
      ],
    });
    expect(mutation(mapOne(keywords, { user_id: 1, keyword: 'bike' }, keywords.events[0]))).toEqual({
      op: 'add',
      value: 'bike',
    });
    expect(mutation(mapOne(keywords, { user_id: 1, keyword: 'bike' }, keywords.events[1]))).toEqual({
      op: 'remove',
      value: 'bike',
    });
  });

  it('map puts key -> value, and deletes by key', () => {
    const prices = feature('user', 'watch_prices', {
      featureType: 'static',
      containerType: 'map',
      mapKey: 'article_id',
      events: [
        binding('s', 'watch', { fields: [field('article_id', 'int'), field('price', 'float')] }),
        binding('s', 'unwatch', { op: 'remove', fields: [field('article_id', 'int')] }),
      ],
    });
    expect(mutation(mapOne(prices, { user_id: 1, article_id: '5', price: 9.5 }, prices.events[0]))).toEqual({
      op: 'put',
      key: '5',
      value: 9.5,
    });
    expect(mutation(mapOne(prices, { user_id: 1, article_id: 5 }, prices.events[1]))).toEqual({
      op: 'delete',
      key: '5',
    });
  });

  it('map with several value fields stores an object of the non-key fields', () => {
    const m = feature('user', 'm', {
      featureType: 'static',
      containerType: 'map',
      mapKey: 'k',
      events: [binding('s', 't', { fields: [field('k', 'string'), field('a', 'int'), field('b', 'bool')] })],
    });
    expect(mutation(mapOne(m, { user_id: 1, k: 'x', a: 1, b: 'true' }))).toEqual({
      op: 'put',
      key: 'x',
      value: { a: 1, b: true },
    });
  });

  it('map rejects an event without its key', () => {
    const m = feature('user', 'm', {
      featureType: 'static',
      containerType: 'map',
      mapKey: 'k',
      events: [binding('s', 't', { fields: [field('k', 'string', { required: false }), field('a', 'int')] })],
    });
    expect(mapOne(m, { user_id: 1, a: 1 })).toMatchObject({
      outcome: 'rejected',
      rejection: { code: 'LARDER_ERR_EVENT_MISSING_FIELD', feature: 'user.m' },
    });
  });
});
