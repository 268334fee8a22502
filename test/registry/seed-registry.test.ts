import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/registries/${name}`, import.meta.url));

describe('the seed example (the original layout), loaded unchanged', () => {
  it('compiles to one action feature with both bindings, an implied entity and stream', async () => {
    const registry = await loadRegistry(fixture('seed'));

    expect(registry.version).toMatch(/^[0-9a-f]{64}$/);
    expect([...registry.entities.values()]).toEqual([
      {
        name: 'user',
        prefix: 'user:',
        idType: 'string',
        idField: 'user_id',
        plural: 'users',
        declared: false,
      },
    ]);
    expect([...registry.streams.values()]).toEqual([
      {
        name: 'client_event',
        source: 'http',
        connection: {},
        group: 'larder',
        payloadField: 'data',
        subTopicField: 'subTopic',
        entityIdField: undefined,
        timestampField: undefined,
        eventIdField: undefined,
        options: {},
        declared: false,
      },
    ]);

    expect(registry.features).toHaveLength(1);
    const feature = registry.features[0]!;
    expect(feature).toMatchObject({
      entity: 'user',
      name: 'recent_view_articles',
      featureType: 'action',
      containerType: 'single',
      mapKey: undefined,
      fields: [{ name: 'article_id', type: { scalar: 'int', list: false } }],
      maxCount: 100,
      ttlMs: undefined,
      description: undefined,
      owner: undefined,
      tags: [],
      cache: undefined,
      joins: [],
      pos: { file: 'features.yaml', line: 5, column: 5 },
    });
    const filter = {
      name: 'country_code',
      type: { scalar: 'string', list: false },
      optype: 'equal',
      values: ['kr'],
    };
    expect(feature.events).toEqual([
      {
        streamName: 'client_event',
        topic: 'client_event_cleansed',
        subTopic: 'view_article_v1',
        filter: [filter],
        fields: [
          {
            path: 'params.article_id_v1',
            name: 'article_id',
            type: { scalar: 'int', list: false },
            required: true,
          },
        ],
        entityIdField: undefined,
        op: 'add',
        pos: { file: 'features.yaml', line: 8, column: 11 },
      },
      {
        streamName: 'client_event',
        topic: 'client_event_cleansed',
        subTopic: 'view_article_v2',
        filter: [filter],
        fields: [
          {
            path: 'params.article_id_v2',
            name: 'article_id',
            type: { scalar: 'int', list: false },
            required: true,
          },
        ],
        entityIdField: undefined,
        op: 'add',
        pos: { file: 'features.yaml', line: 21, column: 11 },
      },
    ]);
    expect(registry.featuresByEntity.get('user')?.get('recent_view_articles')).toBe(feature);
    expect(registry.extensions).toEqual({});
  });

  it('returns a frozen registry and the same version for the same content', async () => {
    const a = await loadRegistry(fixture('seed'));
    const b = await loadRegistry(fixture('seed'));
    expect(a.version).toBe(b.version);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.features[0]!.events[0]!.filter[0]!.values)).toBe(true);
    expect(() => {
      (a.features as unknown as unknown[]).push({});
    }).toThrow(TypeError);
  });
});
