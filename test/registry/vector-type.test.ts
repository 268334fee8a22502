import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkValueType } from '../../src/registry/check-value-type.ts';
import { formatFieldType, parseFieldType, sameFieldType } from '../../src/registry/field-type.ts';
import { loadRegistry, validateRegistry } from '../../src/registry/load.ts';
import type { SpecIssue } from '../../src/registry/types.ts';
import { tempDir } from '../support/temp-dir.ts';

/** `type: vector(N)` in a registry: parsed, formatted, and every bad spelling reported where it is. */

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function registry(types: readonly string[]): string {
  const tmp = tempDir('larder-vector-spec-');
  dirs.push(tmp);
  const lines = [
    'entities: {user: {idType: int}}',
    'streams: {ev: {source: http}}',
    'features:',
    '  user:',
    ...types.flatMap((type, i) => [
      `    f${i}:`,
      `      events: [{streamName: ev, topic: t, fields: [{name: v${i}, type: "${type}"}]}]`,
    ]),
    '',
  ];
  writeFileSync(path.join(tmp.dir, 'r.yaml'), lines.join('\n'));
  return tmp.dir;
}

async function issuesOf(dir: string): Promise<readonly SpecIssue[]> {
  const result = await validateRegistry(dir, { env: {} });
  if (!('issues' in result)) throw new Error('loaded without errors');
  return result.issues;
}

describe('the vector(N) field type', () => {
  it('parses vector(N) as a fixed-length float list, and writes it back the same way', () => {
    const type = parseFieldType(' vector( 384 ) ');
    expect(type).toEqual({ scalar: 'float', list: true, vector: 384 });
    expect(formatFieldType(type!)).toBe('vector(384)');
    expect(sameFieldType(type!, parseFieldType('vector(384)')!)).toBe(true);
    expect(sameFieldType(type!, parseFieldType('vector(383)')!)).toBe(false);
    expect(sameFieldType(type!, parseFieldType('list<float>')!)).toBe(false);
    expect(parseFieldType('vector(4096)')?.vector).toBe(4096);
    for (const bad of [
      'vector',
      'vector()',
      'vector(0)',
      'vector(abc)',
      'vector(-3)',
      'vector(1.5)',
      'vector(4097)',
      'Vector(3)',
    ]) {
      expect(parseFieldType(bad), bad).toBeUndefined();
    }
  });

  it('loads a registry with vector fields', async () => {
    const loaded = await loadRegistry(registry(['vector(3)', 'vector(384)']));
    const fields = loaded.features.map((f) => f.fields[0]!.type);
    expect(fields).toEqual([
      { scalar: 'float', list: true, vector: 3 },
      { scalar: 'float', list: true, vector: 384 },
    ]);
  });

  it('reports every bad dimension at once, each at its file:line:col, with the reason', async () => {
    const issues = await issuesOf(
      registry(['vector(0)', 'vector(abc)', 'vector', 'vector()', 'vector(5000)', 'Vector(3)']),
    );
    expect(issues.map((i) => [i.code, `${i.file}:${i.line}:${i.column}`])).toEqual(
      [6, 8, 10, 12, 14, 16].map((line) => ['LARDER_ERR_SPEC_VECTOR', `r.yaml:${line}:69`]),
    );
    expect(issues.map((i) => i.message)).toEqual([
      'features.user.f0.events[0].fields[0].type "vector(0)" has dimension 0; a vector needs at least one',
      'features.user.f1.events[0].fields[0].type "vector(abc)" has dimension "abc", which is not a whole number',
      'features.user.f2.events[0].fields[0].type "vector" has no dimension',
      'features.user.f3.events[0].fields[0].type "vector()" has no dimension',
      'features.user.f4.events[0].fields[0].type "vector(5000)" has dimension 5000, above the limit of 4096',
      'features.user.f5.events[0].fields[0].type "Vector(3)" is not spelled vector(N)',
    ]);
    expect(issues[0]?.hint).toContain('vector(N) with N a whole number from 1 to 4096');
  });

  it('refuses one field given two dimensions by two events', async () => {
    const tmp = tempDir('larder-vector-spec-');
    dirs.push(tmp);
    writeFileSync(
      path.join(tmp.dir, 'r.yaml'),
      [
        'entities: {user: {idType: int}}',
        'streams: {ev: {source: http}}',
        'features:',
        '  user:',
        '    emb:',
        '      events:',
        '        - {streamName: ev, topic: a, fields: [{name: emb, type: "vector(3)"}]}',
        '        - {streamName: ev, topic: b, fields: [{name: emb, type: "vector(4)"}]}',
        '',
      ].join('\n'),
    );
    const issues = await issuesOf(tmp.dir);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'LARDER_ERR_SPEC_FIELD_CONFLICT' });
    expect(issues[0]?.message).toContain('is vector(4) here but vector(3) at r.yaml:7:');
  });

  it("refuses an entity whose type would take one of rankBy's type names", async () => {
    const tmp = tempDir('larder-vector-spec-');
    dirs.push(tmp);
    writeFileSync(
      path.join(tmp.dir, 'r.yaml'),
      [
        'entities: {rank_feature: {idType: int}}',
        'streams: {ev: {source: http}}',
        'features:',
        '  rank_feature:',
        '    f: {events: [{streamName: ev, topic: t, fields: [{name: f, type: int}]}]}',
        '',
      ].join('\n'),
    );
    const issues = await issuesOf(tmp.dir);
    expect(issues.map((i) => i.code)).toEqual(['LARDER_ERR_SPEC_GRAPHQL_NAME']);
    expect(issues[0]?.message).toContain('RankFeature');
  });

  it('checks on-demand answers and fallbacks of a vector type by length and float32 range', () => {
    const type = parseFieldType('vector(3)')!;
    expect(checkValueType(type, [0.5, -1, 2])).toBe(true);
    expect(checkValueType(type, null)).toBe(true);
    for (const bad of [[1, 2], [1, 2, 3, 4], [1, '2', 3], [1, null, 3], [1, 2, 1e39], 'x', { 0: 1 }]) {
      expect(checkValueType(type, bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
