import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';
import type { Registry } from '../../src/registry/types.ts';

const dir = fileURLToPath(new URL('../fixtures/registries/full', import.meta.url));
const env = { LARDER_TEST_BROKER: 'kafka-1:9092' };

function feature(registry: Registry, entity: string, name: string) {
  const found = registry.featuresByEntity.get(entity)?.get(name);
  if (found === undefined) throw new Error(`no feature ${entity}.${name}`);
  return found;
}

describe('a registry using every extension block', () => {
  it('reads files recursively in path order and compiles entities', async () => {
    const registry = await loadRegistry(dir, { env });
    // features/article.yml sorts before features/user.yaml.
    expect(registry.features.map((f) => `${f.entity}.${f.name}`)).toEqual([
      'flea_article.title',
      'user.recent_view_articles',
      'user.region_id',
      'user.blocked_users',
      'user.keyword_scores',
    ]);
    expect(registry.entities.get('user')).toEqual({
      name: 'user',
      prefix: 'u:',
      idType: 'int',
      idField: 'user.id',
      plural: 'users',
      declared: true,
    });
    expect(registry.entities.get('search_query')).toMatchObject({
      prefix: 'search_query:',
      idType: 'string',
      idField: 'search_query_id',
      plural: 'search_querys',
      declared: true,
    });
  });

  it('compiles streams with ${VAR} and ${VAR:-default} substitution', async () => {
    const registry = await loadRegistry(dir, { env });
    expect(registry.streams.get('client_event')).toEqual({
      name: 'client_event',
      source: 'redis',
      connection: { url: 'redis://127.0.0.1:6379', db: 0 },
      group: 'larder-test',
      payloadField: 'payload',
      subTopicField: 'event.name',
      entityIdField: 'user.id',
      timestampField: 'event.ts',
      eventIdField: 'event.id',
      options: {
        retry: [
          { delay: '1s', attempts: 3 },
          { delay: '1m', attempts: 2 },
        ],
        maxAttempts: 5,
      },
      declared: true,
    });
    expect(registry.streams.get('cdc_article')?.connection).toEqual({ brokers: ['kafka-1:9092'] });
    // Options pass through as written; one that no consumer reads is a warning, not an error.
    expect(registry.warnings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'LARDER_ERR_SPEC_UNKNOWN_KEY',
        file: 'shared/streams.yaml',
        line: 14,
        column: 7,
        message: 'streams.client_event.options.retry is not an option of redis streams; it is not read',
      }),
    ]);
    const withUrl = await loadRegistry(dir, { env: { ...env, LARDER_TEST_REDIS_URL: 'redis://cache:6380' } });
    expect(withUrl.streams.get('client_event')?.connection).toEqual({ url: 'redis://cache:6380', db: 0 });
  });

  it('compiles group options, cache policy, joins, filters and optional fields', async () => {
    const registry = await loadRegistry(dir, { env });
    const views = feature(registry, 'user', 'recent_view_articles');
    expect(views).toMatchObject({
      maxCount: 50,
      ttlMs: 30 * 86_400_000,
      description: 'Articles the user viewed, newest first.',
      owner: 'reco-team',
      tags: ['reco', 'engagement'],
      // Levels come back in read order whatever order they were written in.
      cache: {
        levels: ['local', 'redis'],
        ttlMs: 300_000,
        softTtlMs: 60_000,
        jitter: 0.2,
        negativeTtlMs: 0,
        write: 'write-around',
      },
      joins: [{ field: 'article_id', entity: 'flea_article', as: 'article' }],
    });
    const binding = views.events[0]!;
    expect(binding.entityIdField).toBe('uid');
    expect(binding.filter).toEqual([
      { name: 'country_code', type: { scalar: 'string', list: false }, optype: 'in', values: ['kr', 'jp'] },
      { name: 'params.price', type: { scalar: 'int', list: false }, optype: 'gte', values: [1000] },
      {
        name: 'params.tags',
        type: { scalar: 'string', list: true },
        optype: 'not_contain',
        values: ['spam'],
      },
      { name: 'params.debug', type: { scalar: 'string', list: false }, optype: 'not_exists', values: [] },
    ]);
    expect(binding.fields).toEqual([
      { path: 'params.article_id', name: 'article_id', type: { scalar: 'int', list: false }, required: true },
      { path: 'params.price', name: 'price', type: { scalar: 'float', list: false }, required: false },
      { path: 'params.tags', name: 'tags', type: { scalar: 'string', list: true }, required: true },
    ]);
  });

  it('applies cache defaults for `cache: {}` and compiles set and map containers', async () => {
    const registry = await loadRegistry(dir, { env });
    const blocked = feature(registry, 'user', 'blocked_users');
    expect(blocked.containerType).toBe('set');
    expect(blocked.cache).toEqual({
      levels: ['local'],
      ttlMs: 600_000,
      softTtlMs: 300_000,
      jitter: 0.1,
      negativeTtlMs: 30_000,
      write: 'write-through',
    });
    expect(blocked.events.map((e) => e.op)).toEqual(['add', 'remove']);
    const scores = feature(registry, 'user', 'keyword_scores');
    expect(scores.containerType).toBe('map');
    expect(scores.mapKey).toBe('keyword');
    expect(scores.fields.map((f) => f.name)).toEqual(['keyword', 'score']);
    expect(scores.joins).toEqual([]);
    expect(feature(registry, 'user', 'region_id').cache).toBeUndefined();
  });

  it('passes ingestions and onDemand through raw', async () => {
    const registry = await loadRegistry(dir, { env });
    expect(registry.extensions).toEqual({
      ingestions: {
        daily_titles: {
          source: { format: 'jsonl', path: './data/titles.jsonl' },
          feature: 'flea_article.title',
          entityIdField: 'id',
          fields: [{ name: 'title', type: 'string' }],
          schedule: '0 3 * * *',
        },
      },
      onDemand: {
        user: {
          blocked_by: {
            url: 'http://127.0.0.1:9/blocked/{id}',
            timeout: '50ms',
            fallback: [],
            type: 'list<int>',
          },
        },
      },
    });
    // The onDemand block is also compiled by the loader.
    expect(registry.onDemand).toEqual([
      expect.objectContaining({
        entity: 'user',
        name: 'blocked_by',
        timeoutMs: 50,
        method: 'GET',
        fallback: [],
      }),
    ]);
  });
});
