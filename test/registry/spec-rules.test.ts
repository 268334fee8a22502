import { afterEach, describe, expect, it } from 'vitest';
import { coerceScalar } from '../../src/registry/coerce-value.ts';
import { parseDuration } from '../../src/registry/duration.ts';
import { formatFieldType, parseFieldType } from '../../src/registry/field-type.ts';
import { validateRegistry } from '../../src/registry/load.ts';
import type { Registry, SpecIssue } from '../../src/registry/types.ts';
import { writeRegistry } from './write-registry.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function load(
  yaml: string,
  env: Record<string, string> = {},
): Promise<{ registry?: Registry; issues: readonly SpecIssue[] }> {
  const { dir, remove } = await writeRegistry({ 'spec.yaml': yaml });
  cleanups.push(remove);
  const result = await validateRegistry(dir, { env });
  return 'issues' in result ? { issues: result.issues } : { registry: result.registry, issues: [] };
}

const at = (issues: readonly SpecIssue[]): string[] => issues.map((i) => `${i.line}:${i.column} ${i.code}`);

/** A one-feature registry whose single event has the given filter lines. */
const withFilter = (filter: string): string => `features:
  user:
    clicks:
      featureType: action
      events:
        - streamName: s
          topic: t
          filter:
${filter}
          fields: [{ name: a, type: int }]
`;

describe('field types, durations and coercion', () => {
  it('parses every scalar and list<scalar>, and nothing else', () => {
    for (const scalar of ['int', 'float', 'string', 'bool', 'json']) {
      expect(parseFieldType(scalar)).toEqual({ scalar, list: false });
      expect(parseFieldType(`list<${scalar}>`)).toEqual({ scalar, list: true });
      expect(formatFieldType({ scalar: scalar as 'int', list: true })).toBe(`list<${scalar}>`);
    }
    expect(parseFieldType('list<list<int>>')).toBeUndefined();
    expect(parseFieldType('Int')).toBeUndefined();
    expect(parseFieldType('list<>')).toBeUndefined();
  });

  it('parses durations with units only', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('12h')).toBe(43_200_000);
    expect(parseDuration('30d')).toBe(2_592_000_000);
    expect(parseDuration('30')).toBeUndefined();
    expect(parseDuration('1.5h')).toBeUndefined();
    expect(parseDuration('3w')).toBeUndefined();
  });

  it('coerces values to each scalar type or says why not', () => {
    expect(coerceScalar('42', 'int')).toEqual({ ok: true, value: 42 });
    expect(coerceScalar(4.5, 'int').ok).toBe(false);
    expect(coerceScalar('1e3', 'float')).toEqual({ ok: true, value: 1000 });
    expect(coerceScalar('abc', 'float').ok).toBe(false);
    expect(coerceScalar(7, 'string')).toEqual({ ok: true, value: '7' });
    expect(coerceScalar('TRUE', 'bool')).toEqual({ ok: true, value: true });
    expect(coerceScalar('yes', 'bool').ok).toBe(false);
    expect(coerceScalar(null, 'json')).toEqual({ ok: true, value: null });
    expect(coerceScalar(null, 'string').ok).toBe(false);
  });
});

describe('filter rules', () => {
  it('coerces filter values to the filter type at load', async () => {
    const { registry } = await load(
      withFilter(`            - { name: price, type: float, condition: { optype: lt, values: ['9.5'] } }
            - { name: flag, type: bool, condition: { optype: equal, values: ['false'] } }
            - { name: code, condition: { optype: not_in, values: [1, 2] } }
            - { name: title, condition: { optype: contain, values: [sale, new] } }`),
    );
    expect(registry?.features[0]?.events[0]?.filter.map((f) => [f.optype, f.values])).toEqual([
      ['lt', [9.5]],
      ['equal', [false]],
      ['not_in', ['1', '2']],
      ['contain', ['sale', 'new']],
    ]);
  });

  it('checks the number of values of every optype family', async () => {
    const { issues } = await load(
      withFilter(`            - { name: a, condition: { optype: in, values: [] } }
            - { name: b, condition: { optype: gt } }
            - { name: c, condition: { optype: not_exists, values: [x] } }
            - { name: d, condition: { optype: exists, values: [] } }`),
    );
    expect(at(issues)).toEqual([
      '9:59 LARDER_ERR_SPEC_FILTER_VALUES',
      '10:47 LARDER_ERR_SPEC_FILTER_VALUES',
      '11:67 LARDER_ERR_SPEC_FILTER_VALUES',
    ]);
  });

  it('refuses optypes that do not fit the filter type', async () => {
    const { issues } = await load(
      withFilter(`            - { name: a, type: bool, condition: { optype: gt, values: [true] } }
            - { name: b, type: int, condition: { optype: contain, values: [1] } }
            - { name: c, type: list<int>, condition: { optype: equal, values: [1] } }
            - { name: d, type: list<int>, condition: { optype: contain, values: [1] } }`),
    );
    expect(at(issues)).toEqual([
      '9:59 LARDER_ERR_SPEC_OPTYPE',
      '10:58 LARDER_ERR_SPEC_OPTYPE',
      '11:64 LARDER_ERR_SPEC_OPTYPE',
    ]);
  });
});

describe('feature rules', () => {
  it('unions fields across events in first-seen order', async () => {
    const { registry } = await load(`features:
  user:
    views:
      featureType: action
      events:
        - { streamName: s, topic: a, fields: [{ name: x.article_id, type: int }, { name: src, type: string }] }
        - { streamName: s, topic: b, fields: [{ name: y, rename: article_id, type: int }, { name: pos, type: int }] }
`);
    expect(registry?.features[0]?.fields.map((f) => f.name)).toEqual(['article_id', 'src', 'pos']);
  });

  it('allows a field named timestamp on static features only', async () => {
    const ok = await load(`features:
  user:
    last_seen:
      events: [{ streamName: s, topic: t, fields: [{ name: timestamp, type: int }] }]
`);
    expect(ok.issues).toEqual([]);
  });

  it('validates cache and join settings', async () => {
    const { issues } = await load(`features:
  user:
    views:
      featureType: action
      cache: { levels: [local, disk], ttl: 1m, softTtl: 5m, jitter: 2, write: write-back }
      join: [{ field: article_id, entity: user, as: article_id }, { field: missing, entity: user }]
      events: [{ streamName: s, topic: t, fields: [{ name: article_id, type: int }] }]
`);
    expect(issues.map((i) => `${i.line}:${i.column} ${i.code} ${i.message.slice(0, 40)}`)).toEqual([
      '5:32 LARDER_ERR_SPEC_INVALID_VALUE features.user.views.cache.levels[1] must',
      '5:57 LARDER_ERR_SPEC_INVALID_VALUE features.user.views.cache.softTtl (30000',
      '5:69 LARDER_ERR_SPEC_INVALID_VALUE features.user.views.cache.jitter must be',
      '5:79 LARDER_ERR_SPEC_INVALID_VALUE features.user.views.cache.write must be ',
      '6:53 LARDER_ERR_SPEC_NAME features.user.views.join[0].as "article_',
      '6:76 LARDER_ERR_SPEC_REFERENCE features.user.views.join[1].field "missi',
    ]);
  });

  it('refuses join on static features and duplicate keys in one map', async () => {
    const { issues } = await load(`features:
  user:
    os:
      join: { field: os, entity: user }
      events: [{ streamName: s, topic: t, fields: [{ name: os, type: string }] }]
      maxCount: 3
      maxCount: 4
`);
    expect(at(issues)).toEqual(['4:7 LARDER_ERR_SPEC_INVALID_VALUE', '7:7 LARDER_ERR_SPEC_DUPLICATE']);
  });

  it('implies entities and streams, and keeps declared ones', async () => {
    const { registry } = await load(`streams:
  declared: { source: nats }
features:
  article:
    title:
      events:
        - { streamName: declared, topic: t, fields: [{ name: title, type: string }] }
        - { streamName: implied, topic: t, fields: [{ name: title, type: string }] }
`);
    expect([...(registry?.streams.values() ?? [])].map((s) => [s.name, s.source, s.declared])).toEqual([
      ['declared', 'nats', true],
      ['implied', 'http', false],
    ]);
    expect(registry?.entities.get('article')).toMatchObject({
      prefix: 'article:',
      plural: 'articles',
      declared: false,
    });
  });

  it('reads several YAML documents per file, and empty values as defaults', async () => {
    const { registry, issues } = await load(`entities:
  user:
---
features:
  user:
    os:
      maxCount:
      events: [{ streamName: s, topic: 7, subTopic: 2, fields: [{ name: os, type: string }] }]
  article:
`);
    expect(issues).toEqual([]);
    expect(registry?.entities.get('user')).toMatchObject({
      declared: true,
      prefix: 'user:',
      idType: 'string',
    });
    expect(registry?.features[0]).toMatchObject({ maxCount: 100, events: [{ topic: '7', subTopic: '2' }] });
    expect(registry?.entities.has('article')).toBe(false);
  });

  it('reports overlapping entity prefixes', async () => {
    const { issues } = await load(`entities:
  flea: { prefix: 'c:' }
  jobs: { prefix: 'c:jobs' }
features:
  flea:
    title:
      events: [{ streamName: s, topic: t, fields: [{ name: title, type: string }] }]
`);
    expect(at(issues)).toEqual(['3:19 LARDER_ERR_SPEC_ROOT_CONFLICT']);
  });
});

describe('${ENV} substitution', () => {
  const streams = `streams:
  events:
    source: kafka
    connection:
      brokers: ['\${BROKER_HOST}:\${BROKER_PORT:-9092}']
      clientId: larder-\${ENVIRONMENT:-dev}
    options: { dlq: '\${DLQ_TOPIC}' }
features:
  user:
    os:
      events: [{ streamName: events, topic: t, fields: [{ name: os, type: string }] }]
`;

  it('substitutes variables and defaults in connection and options', async () => {
    const { registry } = await load(streams, { BROKER_HOST: 'k1', ENVIRONMENT: 'prod', DLQ_TOPIC: 'dead' });
    expect(registry?.streams.get('events')?.connection).toEqual({
      brokers: ['k1:9092'],
      clientId: 'larder-prod',
    });
    expect(registry?.streams.get('events')?.options).toEqual({ dlq: 'dead' });
  });

  it('reports each missing variable without a default at its value', async () => {
    const { issues } = await load(streams, {});
    expect(issues.map((i) => `${i.line}:${i.column} ${i.code} ${i.message.split(' uses ')[0]}`)).toEqual([
      '5:17 LARDER_ERR_SPEC_ENV streams.events.connection.brokers[0]',
      '7:21 LARDER_ERR_SPEC_ENV streams.events.options.dlq',
    ]);
  });
});
