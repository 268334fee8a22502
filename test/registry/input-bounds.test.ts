import { afterEach, describe, expect, it } from 'vitest';
import { validateRegistry, type LoadOptions } from '../../src/registry/load.ts';
import type { SpecIssue } from '../../src/registry/types.ts';
import { writeRegistry } from './write-registry.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function issuesOf(
  files: Record<string, string>,
  options: LoadOptions = {},
): Promise<readonly SpecIssue[]> {
  const { dir, remove } = await writeRegistry(files);
  cleanups.push(remove);
  const result = await validateRegistry(dir, { env: {}, ...options });
  return 'issues' in result ? result.issues : [];
}

const at = (issues: readonly SpecIssue[]): string[] =>
  issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.code}`);

const FEATURE = `features:
  user:
    os:
      featureType: static
      events:
        - streamName: s
          topic: t
          fields: [{ name: os, type: string }]
`;

/** Nine-fold nested anchors: 9^levels nodes once expanded, from a few hundred bytes. */
export function aliasBomb(levels: number): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i <= levels; i++)
    lines.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
}

describe('registry input bounds', () => {
  it('refuses a YAML alias bomb at once, at the alias that crosses the bound', async () => {
    const started = performance.now();
    const issues = await issuesOf({ 'bomb.yaml': `${aliasBomb(11)}${FEATURE}` });
    expect(performance.now() - started).toBeLessThan(2_000);
    const alias = issues.filter((i) => i.code === 'LARDER_ERR_SPEC_ALIAS');
    expect(alias).toHaveLength(1);
    expect(alias[0]?.file).toBe('bomb.yaml');
    expect(alias[0]?.line).toBeGreaterThan(1);
    expect(alias[0]?.message).toMatch(/aliases expand to more than 10000 nodes/);
  });

  it('still accepts ordinary anchors and aliases', async () => {
    const yaml = `shared: &fields [{ name: os, type: string }]
features:
  user:
    os:
      featureType: static
      events:
        - { streamName: s, topic: t, fields: *fields }
        - { streamName: s, topic: u, fields: *fields }
`;
    const { dir, remove } = await writeRegistry({ 'spec.yaml': yaml });
    cleanups.push(remove);
    const result = await validateRegistry(dir, { env: {} });
    // `shared` is not a top-level key: the one issue is about it, not about the aliases.
    expect('issues' in result ? at(result.issues) : []).toEqual([
      'spec.yaml:1:1 LARDER_ERR_SPEC_UNKNOWN_KEY',
    ]);
  });

  it('refuses a file over the size bound without reading it, naming its size', async () => {
    const issues = await issuesOf(
      { 'a.yaml': FEATURE, 'big.yaml': `# ${'x'.repeat(5_000)}\n` },
      { limits: { maxFileBytes: 4_096 } },
    );
    expect(at(issues)).toEqual(['big.yaml:1:1 LARDER_ERR_SPEC_TOO_LARGE']);
    expect(issues[0]?.message).toMatch(/5003 bytes.*limit is 4096 bytes/);
  });

  it('refuses a registry whose files add up to more than the total bound', async () => {
    const pad = `# ${'x'.repeat(3_000)}\n`;
    const issues = await issuesOf(
      { 'a.yaml': FEATURE, 'b.yaml': pad, 'c.yaml': pad, 'd.yaml': pad },
      { limits: { maxTotalBytes: 8_000 } },
    );
    expect(at(issues)).toEqual(['d.yaml:1:1 LARDER_ERR_SPEC_TOO_LARGE']);
    expect(issues[0]?.message).toMatch(/registry files add up to more than 8000 bytes/);
  });

  it('refuses nesting deeper than the bound, at the node that crosses it', async () => {
    const depth = 100;
    const issues = await issuesOf({
      'a.yaml': FEATURE,
      'deep.yaml': `x: ${'['.repeat(depth)}${']'.repeat(depth)}\n`,
    });
    // The one other issue is the unknown top-level key `x`.
    expect(at(issues)).toEqual([
      'deep.yaml:1:1 LARDER_ERR_SPEC_UNKNOWN_KEY',
      'deep.yaml:1:67 LARDER_ERR_SPEC_TOO_DEEP',
    ]);
  });
});
