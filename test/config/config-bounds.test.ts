import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/config/load-config.ts';
import { tempDir } from '../support/temp-dir.ts';

const tmp = tempDir('larder-config-bounds-');
afterAll(() => tmp.remove());

let n = 0;
function file(text: string): string {
  const f = path.join(tmp.dir, `config-${++n}.yaml`);
  writeFileSync(f, text);
  return f;
}

function problems(f: string): string[] {
  return checkConfig(f, {}).issues.map((i) => `${i.where}  ${i.code}  ${i.message}`);
}

/** Nine-fold nested anchors: 9^levels nodes once expanded, from a few hundred bytes. */
function aliasBomb(levels: number): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i <= levels; i++)
    lines.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
}

describe('config file input bounds', () => {
  it('refuses a YAML alias bomb with a config issue at the first alias, in bounded time', () => {
    const f = file(`store:\n  type: lmdb\n${aliasBomb(11)}`);
    const started = performance.now();
    const found = problems(f);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(found).toEqual([
      `${f}:4:10  LARDER_ERR_CONFIG_YAML  YAML aliases expand to too many nodes (more than 100 aliased values); write the repeated values out`,
    ]);
  });

  it('still reads ordinary aliases', () => {
    const f = file('store:\n  type: lmdb\n  path: &p /tmp/larder-data\nbatch:\n  dataDir: *p\n');
    const check = checkConfig(f, {});
    expect(check.issues.filter((i) => i.code === 'LARDER_ERR_CONFIG_YAML')).toEqual([]);
  });

  it('refuses a config file over 1 MiB without parsing it', () => {
    const f = file(`# ${'x'.repeat(1024 * 1024)}\nstore:\n  type: lmdb\n`);
    expect(problems(f)).toEqual([
      `${f}:1:1  LARDER_ERR_CONFIG  config ${f} is 1048599 bytes; the limit is 1048576 bytes`,
    ]);
  });

  it('refuses nesting deeper than 64 levels', () => {
    const f = file(`store: ${'['.repeat(80)}${']'.repeat(80)}\n`);
    const found = problems(f);
    expect(found[0]).toMatch(/LARDER_ERR_CONFIG_YAML {2}maps and lists nest more than 64 levels deep/);
    expect(found).toHaveLength(1);
  });
});
