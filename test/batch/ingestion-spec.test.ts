import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRegistry, validateRegistry } from '../../src/registry/load.ts';
import { tempDir } from '../support/temp-dir.ts';
import { writeFiles } from './support/fixtures.ts';

const tmp = tempDir('larder-ingestion-spec-');
afterAll(() => tmp.remove());
let n = 0;

async function issuesOf(yaml: string) {
  const dir = path.join(tmp.dir, `r${n++}`);
  writeFiles(dir, { 'spec.yaml': yaml });
  const result = await validateRegistry(dir);
  if (!('issues' in result)) throw new Error('expected the registry to be invalid');
  return result.issues.map((i) => `${i.line}:${i.column} ${i.code} ${i.message}`);
}

const FEATURES = `entities:
  user: {prefix: "u:", idType: int}
features:
  user:
    region_id:
      events: [{streamName: s, topic: t, fields: [{name: region_id, type: int}]}]
    clicks:
      featureType: action
      events: [{streamName: s, topic: c, fields: [{name: article_id, type: int}]}]
`;

describe('ingestions block in the registry', () => {
  it('compiles an ingestion with its defaults, and a feature with no events takes its fields from it', async () => {
    const dir = path.join(tmp.dir, 'valid');
    writeFiles(dir, {
      'spec.yaml': `${FEATURES}    scores:
      featureType: static
      containerType: map
      mapKey: keyword
ingestions:
  user_region_backfill:
    source: {format: jsonl, path: "data/regions/*.jsonl"}
    feature: user.region_id
    entityIdField: user_id
    timestampField: ts
    eventIdField: row_id
    filter: [{name: country, type: string, condition: {optype: equal, values: [kr]}}]
    fields: [{name: region, rename: region_id, type: int}]
    schedule: "0 3 * * *"
    timezone: Asia/Seoul
    dependsOn: [keyword_scores]
    parallelism: auto
    retries: 3
    timeout: 1h
    maxErrorRate: 0.01
  keyword_scores:
    source: {format: parquet, path: "s3://bucket/scores/*.parquet"}
    feature: user.scores
    fields: [{name: kw, rename: keyword, type: string}, {name: score, type: float}]
    parallelism: 4
`,
    });
    const registry = await loadRegistry(dir);
    const region = registry.ingestions?.get('user_region_backfill');
    expect(region).toMatchObject({
      name: 'user_region_backfill',
      source: { format: 'jsonl', path: path.join(dir, 'data/regions/*.jsonl') },
      entity: 'user',
      feature: 'region_id',
      entityIdField: 'user_id',
      timestampField: 'ts',
      eventIdField: 'row_id',
      fields: [{ path: 'region', name: 'region_id', type: { scalar: 'int', list: false }, required: true }],
      schedule: '0 3 * * *',
      timezone: 'Asia/Seoul',
      dependsOn: ['keyword_scores'],
      parallelism: 'auto',
      retries: 3,
      timeoutMs: 3_600_000,
      maxErrorRate: 0.01,
    });
    expect(region?.filter[0]).toMatchObject({ name: 'country', optype: 'equal', values: ['kr'] });
    const scores = registry.ingestions?.get('keyword_scores');
    expect(scores).toMatchObject({
      source: { format: 'parquet', path: 's3://bucket/scores/*.parquet' },
      entityIdField: 'user_id',
      parallelism: 4,
      schedule: undefined,
    });
    const feature = registry.featuresByEntity.get('user')?.get('scores');
    expect(feature?.events).toEqual([]);
    expect(feature?.fields).toEqual([
      { name: 'keyword', type: { scalar: 'string', list: false } },
      { name: 'score', type: { scalar: 'float', list: false } },
    ]);
    expect(feature?.mapKey).toBe('keyword');
  });

  it('reports every problem of the block at once, each with file:line:col and its code', async () => {
    const issues = await issuesOf(`${FEATURES}    lonely:
      featureType: static
ingestions:
  a:
    source: {format: xml, path: x}
    feature: user.regoin_id
    fields: [{name: region, type: integr}]
    schedule: "61 * * * *"
    timezone: Mars/Olympus
    dependsOn: [b, nope]
    parallelism: many
    maxErrorRate: 2
    colour: red
  b:
    source: {format: csv, path: b.csv}
    feature: user.clicks
    fields: [{name: article, rename: article_id, type: string}]
    dependsOn: [a]
`);
    expect(issues).toEqual([
      '10:5 LARDER_ERR_SPEC_MISSING_KEY features.user.lonely needs at least one entry under events: nothing would feed it',
      expect.stringMatching(
        /^14:22 LARDER_ERR_SPEC_INVALID_VALUE ingestions\.a\.source\.format must be one of jsonl, csv, parquet; found "xml"/,
      ),
      expect.stringMatching(
        /^15:14 LARDER_ERR_SPEC_REFERENCE ingestions\.a\.feature "user\.regoin_id" is not a declared feature/,
      ),
      expect.stringMatching(/^16:35 LARDER_ERR_SPEC_FIELD_TYPE ingestions\.a\.fields\[0\]\.type "integr"/),
      expect.stringMatching(
        /^17:15 LARDER_ERR_SPEC_CRON ingestions\.a\.schedule "61 \* \* \* \*" is not a cron expression/,
      ),
      '18:15 LARDER_ERR_SPEC_INVALID_VALUE ingestions.a.timezone "Mars/Olympus" is not an IANA time zone',
      '19:17 LARDER_ERR_SPEC_CYCLE ingestions depend on each other in a cycle: a -> b -> a',
      '19:20 LARDER_ERR_SPEC_REFERENCE ingestions.a.dependsOn names "nope", which is not an ingestion',
      expect.stringMatching(
        /^20:18 LARDER_ERR_SPEC_INVALID_VALUE ingestions\.a\.parallelism must be auto or a whole number/,
      ),
      expect.stringMatching(
        /^21:19 LARDER_ERR_SPEC_INVALID_VALUE ingestions\.a\.maxErrorRate must be a number from 0 to 1/,
      ),
      expect.stringMatching(/^22:5 LARDER_ERR_SPEC_UNKNOWN_KEY unknown key "colour" in ingestions\.a/),
      '24:5 LARDER_ERR_SPEC_MISSING_KEY ingestions.b feeds the action feature user.clicks, whose rows are ordered by time: timestampField is required',
      expect.stringMatching(
        /^26:56 LARDER_ERR_SPEC_FIELD_CONFLICT ingestions\.b: field "article_id" is string here but int in user\.clicks/,
      ),
    ]);
  });

  it('rejects dependsOn cycles, naming the cycle', async () => {
    const issues = await issuesOf(`${FEATURES}ingestions:
  one:
    source: {format: jsonl, path: a.jsonl}
    feature: user.region_id
    fields: [{name: region_id, type: int}]
    dependsOn: [two]
  two:
    source: {format: jsonl, path: b.jsonl}
    feature: user.region_id
    fields: [{name: region_id, type: int}]
    dependsOn: [three]
  three:
    source: {format: jsonl, path: c.jsonl}
    feature: user.region_id
    fields: [{name: region_id, type: int}]
    dependsOn: [one]
`);
    expect(issues).toEqual([
      '15:17 LARDER_ERR_SPEC_CYCLE ingestions depend on each other in a cycle: one -> two -> three -> one',
    ]);
  });
});
