import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRegistry, validateRegistry } from '../../src/registry/load.ts';

/** `owner` and `tags`, the catalog's keys of a feature group: read, and checked like every key. */
async function withRegistry<T>(yaml: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'larder-catalog-keys-'));
  try {
    writeFileSync(path.join(dir, 'features.yaml'), yaml);
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const group = (extra: string): string => `features:
  user:
    os:
${extra}
      events: [{streamName: ev, topic: t, fields: [{name: os, type: string}]}]
`;

describe('owner and tags of a feature group', () => {
  it('are read for the catalog (owner a string, tags a list of strings; defaults none and [])', async () => {
    const registry = await withRegistry(
      group('      owner: growth-team\n      tags: [ranking, profile]'),
      (dir) => loadRegistry(dir, { env: {} }),
    );
    expect(registry.features[0]).toMatchObject({ owner: 'growth-team', tags: ['ranking', 'profile'] });
    const plain = await withRegistry(group('      description: x'), (dir) => loadRegistry(dir, { env: {} }));
    expect(plain.features[0]).toMatchObject({ owner: undefined, tags: [] });
  });

  it('report a wrong type at its file:line:column, every problem at once', async () => {
    const result = await withRegistry(group('      owner: [a, b]\n      tags: ranking'), (dir) =>
      validateRegistry(dir, { env: {} }),
    );
    if (!('issues' in result)) throw new Error('loaded without errors');
    const where = result.issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.message}`);
    expect(where).toEqual([
      expect.stringMatching(/^features\.yaml:4:14 .*owner/),
      expect.stringMatching(/^features\.yaml:5:13 .*tags/),
    ]);
  });
});
