import { describe, expect, it } from 'vitest';
import { Dispatcher, dispatcherFor } from '../../src/ingest/dispatcher.ts';
import { binding, feature, field, registry, stream } from '../support/registry-builder.ts';

/** The original layout of docs/spec.md, plus features that share and split events. */
function buildRegistry() {
  return registry({
    streams: [stream('client_event', { subTopicField: 'event_type' })],
    features: [
      feature('user', 'recent_view_articles', {
        featureType: 'action',
        events: [
          binding('client_event', 'client_event_cleansed', {
            subTopic: 'view_article_v1',
            fields: [field('params.article_id_v1', 'int', { rename: 'article_id' })],
          }),
          binding('client_event', 'client_event_cleansed', {
            subTopic: 'view_article_v2',
            fields: [field('params.article_id_v2', 'int', { rename: 'article_id' })],
          }),
        ],
      }),
      feature('user', 'recent_v1_views', {
        featureType: 'action',
        events: [binding('client_event', 'client_event_cleansed', { subTopic: 'view_article_v1' })],
      }),
      feature('user', 'all_client_events', {
        featureType: 'action',
        events: [binding('client_event', 'client_event_cleansed')],
      }),
      feature('user', 'server_side', {
        featureType: 'action',
        // A stream no one declared: implied with defaults (no subTopicField).
        events: [binding('server_event', 'orders')],
      }),
    ],
  });
}

function keys(routes: readonly { featureKey: string }[]): string[] {
  return routes.map((r) => r.featureKey);
}

describe('dispatcher', () => {
  const dispatcher = new Dispatcher(buildRegistry());

  it('routes one event to several features (1:N), topic-wide bindings included', () => {
    const routes = dispatcher.routes('client_event', 'client_event_cleansed', {
      event_type: 'view_article_v1',
    });
    expect(keys(routes)).toEqual([
      'user.all_client_events',
      'user.recent_view_articles',
      'user.recent_v1_views',
    ]);
  });

  it('feeds one feature from several event types (N:1), each through its own binding', () => {
    const v1 = dispatcher.routes('client_event', 'client_event_cleansed', { event_type: 'view_article_v1' });
    const v2 = dispatcher.routes('client_event', 'client_event_cleansed', { event_type: 'view_article_v2' });
    const v1Binding = v1.find((r) => r.featureKey === 'user.recent_view_articles')?.binding;
    const v2Binding = v2.find((r) => r.featureKey === 'user.recent_view_articles')?.binding;
    expect(v1Binding?.fields[0]?.path).toBe('params.article_id_v1');
    expect(v2Binding?.fields[0]?.path).toBe('params.article_id_v2');
    expect(keys(v2)).toEqual(['user.all_client_events', 'user.recent_view_articles']);
  });

  it('routes an unknown or missing sub-topic to topic-wide bindings only', () => {
    expect(keys(dispatcher.routes('client_event', 'client_event_cleansed', { event_type: 'other' }))).toEqual(
      ['user.all_client_events'],
    );
    expect(keys(dispatcher.routes('client_event', 'client_event_cleansed', {}))).toEqual([
      'user.all_client_events',
    ]);
  });

  it('routes nothing for an unknown topic or stream', () => {
    expect(dispatcher.routes('client_event', 'nope', { event_type: 'view_article_v1' })).toHaveLength(0);
    expect(dispatcher.routes('nope', 'client_event_cleansed', {})).toHaveLength(0);
  });

  it('knows declared streams and streams only features name', () => {
    expect(dispatcher.knowsStream('client_event')).toBe(true);
    expect(dispatcher.knowsStream('server_event')).toBe(true);
    expect(dispatcher.stream('server_event')?.declared).toBe(false);
    expect(dispatcher.knowsStream('unknown')).toBe(false);
    expect(keys(dispatcher.routes('server_event', 'orders', { event_type: 'x' }))).toEqual([
      'user.server_side',
    ]);
  });

  it('reads a numeric sub-topic as text', () => {
    const reg = registry({
      streams: [stream('s', { subTopicField: 'meta.kind' })],
      features: [
        feature('user', 'f', { featureType: 'action', events: [binding('s', 't', { subTopic: '7' })] }),
      ],
    });
    expect(keys(new Dispatcher(reg).routes('s', 't', { meta: { kind: 7 } }))).toEqual(['user.f']);
  });

  it('caches one dispatcher per registry object, a new one after a reload', () => {
    const first = buildRegistry();
    const second = buildRegistry();
    expect(dispatcherFor(first)).toBe(dispatcherFor(first));
    expect(dispatcherFor(second)).not.toBe(dispatcherFor(first));
  });

  it('routes through an index: a thousand features cost the same lookup', () => {
    const features = Array.from({ length: 1000 }, (_, i) =>
      feature('user', `f${i}`, { featureType: 'action', events: [binding('s', `topic${i}`)] }),
    );
    const big = new Dispatcher(registry({ streams: [stream('s')], features }));
    expect(keys(big.routes('s', 'topic999', {}))).toEqual(['user.f999']);
    expect(big.routes('s', 'topic1000', {})).toHaveLength(0);
  });
});
