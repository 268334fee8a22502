import { cp, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLarderError } from '../../src/errors.ts';
import {
  SpecValidationError,
  formatSpecIssues,
  loadRegistry,
  validateRegistry,
} from '../../src/registry/load.ts';
import type { SpecIssue } from '../../src/registry/types.ts';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/registries/invalid/${name}`, import.meta.url));

async function issuesOf(dir: string): Promise<readonly SpecIssue[]> {
  const result = await validateRegistry(dir, { env: {} });
  if (!('issues' in result)) throw new Error(`${dir} loaded without errors`);
  return result.issues;
}

/** [fixture, code, file:line:column, a piece of the message that names the rule]. */
const cases: [string, string, string, string][] = [
  ['unknown-key', 'LARDER_ERR_SPEC_UNKNOWN_KEY', 'features.yaml:5:7', 'unknown key "maxcount"'],
  ['bad-optype', 'LARDER_ERR_SPEC_OPTYPE', 'features.yaml:10:36', '"equl" is not an optype'],
  [
    'filter-arity',
    'LARDER_ERR_SPEC_FILTER_VALUES',
    'features.yaml:12:25',
    'equal takes exactly one value, found 2',
  ],
  [
    'filter-coerce',
    'LARDER_ERR_SPEC_FILTER_VALUES',
    'features.yaml:13:38',
    'values[2] cannot be coerced to int',
  ],
  ['field-type', 'LARDER_ERR_SPEC_FIELD_TYPE', 'features.yaml:10:21', '"integer" is not a field type'],
  ['duration', 'LARDER_ERR_SPEC_DURATION', 'features.yaml:5:12', 'ttl must be a duration'],
  [
    'field-name',
    'LARDER_ERR_SPEC_NAME',
    'features.yaml:9:21',
    'output field name "article-id" is not a valid name',
  ],
  [
    'reserved-timestamp',
    'LARDER_ERR_SPEC_RESERVED',
    'features.yaml:10:23',
    '"timestamp" is reserved on action rows',
  ],
  [
    'container-on-action',
    'LARDER_ERR_SPEC_CONTAINER',
    'features.yaml:5:22',
    'applies to static features only',
  ],
  [
    'map-key',
    'LARDER_ERR_SPEC_CONTAINER',
    'features.yaml:5:15',
    'mapKey "word" is not one of the feature\'s fields',
  ],
  [
    'field-conflict',
    'LARDER_ERR_SPEC_FIELD_CONFLICT',
    'features.yaml:11:66',
    'is string here but int at features.yaml:8:73',
  ],
  ['duplicate-feature', 'LARDER_ERR_SPEC_DUPLICATE', 'b.yaml:4:5', 'declared twice: first at a.yaml:3:5'],
  ['empty', 'LARDER_ERR_SPEC_EMPTY', 'README.yaml:1:1', 'declares no features'],
  [
    'join-unknown-entity',
    'LARDER_ERR_SPEC_REFERENCE',
    'features.yaml:5:42',
    '"flea_articel" is not an entity',
  ],
  ['missing-topic', 'LARDER_ERR_SPEC_MISSING_KEY', 'features.yaml:6:11', 'events[0].topic is required'],
  [
    'env-missing',
    'LARDER_ERR_SPEC_ENV',
    'streams.yaml:5:17',
    'LARDER_TEST_UNSET_BROKER_VAR, which is not set',
  ],
  [
    'remove-on-single',
    'LARDER_ERR_SPEC_CONTAINER',
    'features.yaml:7:15',
    'op: remove applies to static set or map',
  ],
  ['feature-named-id', 'LARDER_ERR_SPEC_RESERVED', 'features.yaml:3:5', '"id" is reserved as a feature name'],
  ['bad-id-type', 'LARDER_ERR_SPEC_INVALID_VALUE', 'entities.yaml:3:13', 'idType must be one of int, string'],
  ['wrong-node-type', 'LARDER_ERR_SPEC_TYPE', 'features.yaml:5:9', 'events must be a list, found a map'],
  ['no-events', 'LARDER_ERR_SPEC_MISSING_KEY', 'features.yaml:3:5', 'needs at least one entry under events'],
];

describe('invalid specs: exact code and position', () => {
  it.each(cases)('%s → %s at %s', async (name, code, place, message) => {
    const issues = await issuesOf(fixture(name));
    expect(issues).toHaveLength(1);
    const [issue] = issues;
    expect(issue?.code).toBe(code);
    expect(`${issue?.file}:${issue?.line}:${issue?.column}`).toBe(place);
    expect(issue?.message).toContain(message);
    expect(issue?.hint.length).toBeGreaterThan(0);
  });

  it('suggests the likely key, optype, type and entity', async () => {
    expect((await issuesOf(fixture('unknown-key')))[0]?.hint).toContain('Did you mean "maxCount"?');
    expect((await issuesOf(fixture('bad-optype')))[0]?.hint).toContain('Did you mean "equal"?');
    expect((await issuesOf(fixture('field-type')))[0]?.hint).toBe('Write "int".');
    expect((await issuesOf(fixture('join-unknown-entity')))[0]?.hint).toContain(
      'Did you mean "flea_article"?',
    );
    expect((await issuesOf(fixture('field-name')))[0]?.hint).toContain('rename: article_id');
  });

  it('reports a YAML syntax error and still validates the other files', async () => {
    // Stored as broken.yaml.in so that the repository's format check does not trip over it.
    const dir = await mkdtemp(join(tmpdir(), 'larder-spec-yaml-'));
    try {
      await cp(fixture('yaml-syntax'), dir, { recursive: true });
      await rename(join(dir, 'broken.yaml.in'), join(dir, 'broken.yaml'));
      const issues = await issuesOf(dir);
      expect(issues.map((i) => [i.code, `${i.file}:${i.line}:${i.column}`])).toEqual([
        ['LARDER_ERR_SPEC_YAML', 'broken.yaml:5:1'],
        ['LARDER_ERR_SPEC_FIELD_TYPE', 'other.yaml:8:64'],
      ]);
      expect(issues[0]?.message).toContain('Flow map in block collection');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports both collisions of plurals with other root names', async () => {
    const issues = await issuesOf(fixture('plural-conflict'));
    expect(issues.map((i) => [i.code, `${i.file}:${i.line}:${i.column}`])).toEqual([
      ['LARDER_ERR_SPEC_ROOT_CONFLICT', 'entities.yaml:3:13'],
      ['LARDER_ERR_SPEC_ROOT_CONFLICT', 'entities.yaml:7:13'],
    ]);
  });

  it('reports every error of a registry at once, across files', async () => {
    const issues = await issuesOf(fixture('multi-error'));
    expect(issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.code}`)).toEqual([
      'entities.yaml:3:13 LARDER_ERR_SPEC_INVALID_VALUE',
      'entities.yaml:4:5 LARDER_ERR_SPEC_UNKNOWN_KEY',
      'features.yaml:4:20 LARDER_ERR_SPEC_INVALID_VALUE',
      'features.yaml:5:12 LARDER_ERR_SPEC_DURATION',
      'features.yaml:11:52 LARDER_ERR_SPEC_FILTER_VALUES',
      'features.yaml:13:68 LARDER_ERR_SPEC_FIELD_TYPE',
      'features.yaml:15:22 LARDER_ERR_SPEC_CONTAINER',
    ]);
  });

  it('throws one SpecValidationError carrying every issue, formatted for the CLI', async () => {
    const error = await loadRegistry(fixture('multi-error'), { env: {} }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SpecValidationError);
    expect(isLarderError(error) && error.code).toBe('LARDER_ERR_SPEC_INVALID');
    const issues = (error as SpecValidationError).issues;
    expect(issues).toHaveLength(7);
    const text = formatSpecIssues(issues).split('\n');
    expect(text[0]).toBe(
      'entities.yaml:3:13  LARDER_ERR_SPEC_INVALID_VALUE  entities.user.idType must be one of int, string; found "integer"',
    );
    expect(text[1]).toBe('  hint: Use one of int, string.');
    expect(text).toHaveLength(14);
  });

  it('reports an empty or missing directory as LARDER_ERR_SPEC_EMPTY', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'larder-spec-empty-'));
    try {
      const [empty] = await issuesOf(dir);
      expect(empty).toMatchObject({ code: 'LARDER_ERR_SPEC_EMPTY', file: '.', line: 1, column: 1 });
      const [missing] = await issuesOf(join(dir, 'nope'));
      expect(missing?.code).toBe('LARDER_ERR_SPEC_EMPTY');
      expect(missing?.message).toContain('does not exist');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
