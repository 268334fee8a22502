import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateRegistry } from '../../src/registry/load.ts';
import { compileFiles, issueLine as at, writeRegistry } from './write-registry.ts';

const FEATURES = [
  'entities: {flea_article: {idType: int, idField: article_id}}',
  'streams:',
  '  server_event: {source: http, subTopicField: type, eventIdField: event_id}',
  '  declared_out: {source: http, eventIdField: id}',
  'features:',
  '  flea_article:',
  '    title:',
  '      events: [{streamName: server_event, topic: cdc_article, fields: [{name: after.title, rename: title, type: string}]}]',
  '    category:',
  '      events: [{streamName: enriched, topic: category, fields: [{name: result.category, rename: category, type: string}]}]',
  '',
].join('\n');

/** Compiles `enrichers:` (YAML lines under it) beside a small article registry. */
function compile(lines: readonly string[]) {
  return compileFiles({
    'features.yaml': FEATURES,
    'enrichers.yaml': ['enrichers:', ...lines, ''].join('\n'),
  });
}

describe('the enrichers block', () => {
  it('compiles the documented keys with their defaults', () => {
    const { registry, issues, warnings } = compile([
      '  article_category:',
      '    trigger:',
      '      streamName: server_event',
      '      topic: cdc_article',
      '      subTopic: created',
      '      filter: [{name: after.title, condition: {optype: exists}}]',
      '    input: {article_id: after.id, text: after.title}',
      '    handler: {command: [node, predict.js]}',
      '    concurrency: {min: 2, max: 16}',
      '    timeout: 2s',
      '    retries: {max: 5, backoff: 100ms, maxBackoff: 10s}',
      '    onSuccess: {streamName: enriched, topic: category}',
      '    onFailure: {streamName: enriched, topic: category_failed}',
      '  remote:',
      '    handler: {http: {url: "http://model:8080/predict"}}',
      '    onSuccess: {streamName: enriched, topic: remote}',
    ]);
    expect(issues).toEqual([]);
    expect(warnings).toEqual([]);
    const category = registry?.enrichers.get('article_category');
    expect(category).toMatchObject({
      name: 'article_category',
      trigger: {
        streamName: 'server_event',
        topic: 'cdc_article',
        subTopic: 'created',
        filter: [{ name: 'after.title', optype: 'exists' }],
      },
      input: [
        { name: 'article_id', path: 'after.id' },
        { name: 'text', path: 'after.title' },
      ],
      handler: { kind: 'command', argv: ['node', 'predict.js'], cwd: '/registry' },
      concurrency: { min: 2, max: 16 },
      timeoutMs: 2000,
      retries: { max: 5, backoffMs: 100, maxBackoffMs: 10_000 },
      onSuccess: { streamName: 'enriched', topic: 'category' },
      onFailure: { streamName: 'enriched', topic: 'category_failed' },
    });
    expect(registry?.enrichers.get('remote')).toMatchObject({
      trigger: undefined,
      input: [],
      handler: {
        kind: 'http',
        url: 'http://model:8080/predict',
        timeoutMs: 10_000,
        breaker: { failures: 5 },
      },
      concurrency: { min: 1, max: 8 },
      retries: { max: 3, backoffMs: 1000, maxBackoffMs: 60_000 },
      onFailure: undefined,
    });
    // The destination stream nobody declared is implied with the result events' id field.
    expect(registry?.streams.get('enriched')).toMatchObject({ source: 'http', eventIdField: 'eventId' });
  });

  it('reports every problem at once, each at its place, with did-you-mean', () => {
    const { issues } = compile([
      '  bad:',
      '    triger: {streamName: server_event, topic: x}',
      '    handler: {module: ./a.js, command: [node]}',
      '    concurrency: {min: 4, max: 2}',
      '    timeout: 10',
      '    onSuccess: {streamName: declared_out, topic: out}',
      '  loop:',
      '    trigger: {streamName: server_event, topic: cdc_article}',
      '    handler: {command: [node, x.js]}',
      '    onSuccess: {streamName: server_event, topic: cdc_article}',
      '  nohandler:',
      '    onSucess: {streamName: enriched, topic: t}',
    ]);
    expect(issues.map(at)).toEqual([
      expect.stringMatching(/^3:5 LARDER_ERR_SPEC_UNKNOWN_KEY unknown key "triger" in enrichers.bad/),
      '4:14 LARDER_ERR_SPEC_INVALID_VALUE enrichers.bad.handler must name exactly one of module, http or command; found module, command',
      '5:24 LARDER_ERR_SPEC_INVALID_VALUE enrichers.bad.concurrency.min (4) is larger than max (2)',
      expect.stringMatching(/^6:14 LARDER_ERR_SPEC_DURATION enrichers.bad.timeout must be a duration/),
      expect.stringMatching(
        /^7:29 LARDER_ERR_SPEC_INVALID_VALUE enrichers.bad.onSuccess.streamName: stream "declared_out" takes event ids from id/,
      ),
      expect.stringMatching(
        /^9:14 LARDER_ERR_SPEC_INVALID_VALUE enrichers.loop.onSuccess publishes to server_event\/cdc_article/,
      ),
      expect.stringMatching(
        /^11:29 LARDER_ERR_SPEC_INVALID_VALUE enrichers.loop.onSuccess.streamName: stream "server_event" takes event ids from event_id/,
      ),
      expect.stringMatching(/^12:3 LARDER_ERR_SPEC_MISSING_KEY enrichers.nohandler.handler is required/),
      expect.stringMatching(/^12:3 LARDER_ERR_SPEC_MISSING_KEY enrichers.nohandler.onSuccess is required/),
      expect.stringMatching(/^13:5 LARDER_ERR_SPEC_UNKNOWN_KEY unknown key "onSucess"/),
    ]);
    expect(issues.find((i) => i.message.includes('"triger"'))?.hint).toContain('Did you mean "trigger"?');
    expect(issues.find((i) => i.message.includes('"onSucess"'))?.hint).toContain('Did you mean "onSuccess"?');
  });

  it('substitutes ${VAR} in an http handler url, as in stream connections', () => {
    const files = {
      'features.yaml': FEATURES,
      'enrichers.yaml': [
        'enrichers:',
        '  remote:',
        '    handler: {http: {url: "${MODEL_URL:-http://model:8080/predict}", timeout: 2s}}',
        '    onSuccess: {streamName: enriched, topic: remote}',
        '  unset:',
        '    handler: {http: {url: "${NOT_SET}/predict"}}',
        '    onSuccess: {streamName: enriched, topic: unset}',
        '',
      ].join('\n'),
    };
    const set = compileFiles(files, { env: { MODEL_URL: 'http://10.0.0.7:9000/p', NOT_SET: 'http://x' } });
    expect(set.registry?.enrichers.get('remote')?.handler).toMatchObject({
      url: 'http://10.0.0.7:9000/p',
      timeoutMs: 2000,
    });
    const unset = compileFiles(files, { env: {} });
    expect(unset.issues.map(at)).toEqual([
      expect.stringMatching(
        /^6:27 LARDER_ERR_SPEC_ENV enrichers.unset.handler.http.url uses the environment variable NOT_SET/,
      ),
    ]);
  });

  it('warns about a loop through two enrichers', () => {
    const { registry, warnings } = compile([
      '  a:',
      '    trigger: {streamName: s1, topic: t}',
      '    handler: {command: [node, a.js]}',
      '    onSuccess: {streamName: s2, topic: t}',
      '  b:',
      '    trigger: {streamName: s2, topic: t}',
      '    handler: {command: [node, b.js]}',
      '    onSuccess: {streamName: s1, topic: t}',
    ]);
    expect(registry?.enrichers.size).toBe(2);
    expect(warnings.map(at)).toEqual([expect.stringContaining('enrichers a -> b -> a form a loop')]);
  });

  describe('module handlers', () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const cleanup of cleanups) await cleanup();
    });

    it('resolves the module against the registry directory and reports one that is missing', async () => {
      const written = await writeRegistry({
        'features.yaml': FEATURES,
        'handlers/embed.js': 'export default async (input) => ({ n: 1 });\n',
        'enrichers.yaml': [
          'enrichers:',
          '  embed:',
          '    handler: {module: ./handlers/embed.js}',
          '    onSuccess: {streamName: enriched, topic: e}',
          '  missing:',
          '    handler: {module: ./handlers/nope.js}',
          '    onSuccess: {streamName: enriched, topic: m}',
          '',
        ].join('\n'),
      });
      cleanups.push(written.remove);
      const result = await validateRegistry(written.dir);
      expect('issues' in result && result.issues.map(at)).toEqual([
        expect.stringMatching(
          /^6:23 LARDER_ERR_SPEC_REFERENCE enrichers.missing.handler.module .\/handlers\/nope.js does not exist/,
        ),
      ]);
      const fixed = await writeRegistry({
        'features.yaml': FEATURES,
        'handlers/embed.js': 'export default async (input) => ({ n: 1 });\n',
        'enrichers.yaml':
          'enrichers:\n  embed:\n    handler: {module: ./handlers/embed.js}\n    onSuccess: {streamName: enriched, topic: e}\n',
      });
      cleanups.push(fixed.remove);
      const ok = await validateRegistry(fixed.dir);
      expect('registry' in ok && ok.registry.enrichers.get('embed')?.handler).toEqual({
        kind: 'module',
        path: path.join(fixed.dir, 'handlers/embed.js'),
      });
    });
  });
});
