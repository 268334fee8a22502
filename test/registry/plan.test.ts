import { afterEach, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';
import { planRegistryChange } from '../../src/registry/plan.ts';
import type { Registry } from '../../src/registry/types.ts';
import { writeRegistry } from './write-registry.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function load(yaml: string): Promise<Registry> {
  const { dir, remove } = await writeRegistry({ 'spec.yaml': yaml });
  cleanups.push(remove);
  return loadRegistry(dir, { env: {} });
}

const before = `entities:
  user: { prefix: 'u:' }
features:
  user:
    clicks:
      featureType: action
      events: [{ streamName: s, topic: click, fields: [{ name: a, type: int }, { name: b, type: string }] }]
    os:
      events: [{ streamName: s, topic: open, fields: [{ name: os, type: string }] }]
`;

const after = `# the comment moves every position; plan ignores positions
entities:
  user: { prefix: 'usr:' }
features:
  user:
    clicks:
      featureType: action
      maxCount: 10
      events: [{ streamName: s, topic: click, fields: [{ name: a, type: string }, { name: c, type: int }] }]
  article:
    title:
      events: [{ streamName: cdc, topic: article, fields: [{ name: title, type: string }] }]
ingestions:
  nightly:
    source: { format: jsonl, path: x.jsonl }
    feature: article.title
    entityIdField: id
    fields: [{ name: title, type: string }]
`;

describe('planRegistryChange', () => {
  it('lists added, removed and changed entities, streams, features and extensions', async () => {
    const changes = planRegistryChange(await load(before), await load(after));
    expect(changes).toEqual([
      { kind: 'entity', name: 'user', change: 'changed', reason: 'prefix "u:" → "usr:"' },
      { kind: 'entity', name: 'article', change: 'added', reason: 'new entity' },
      { kind: 'stream', name: 'cdc', change: 'added', reason: 'new stream' },
      {
        kind: 'feature',
        name: 'user.clicks',
        change: 'changed',
        reason:
          'field a: int → string; +field c: int; -field b; events changed (1 → 1 bindings); maxCount 100 → 10',
      },
      { kind: 'feature', name: 'article.title', change: 'added', reason: 'new feature' },
      { kind: 'feature', name: 'user.os', change: 'removed', reason: 'feature no longer in the registry' },
      { kind: 'extension', name: 'ingestions', change: 'added', reason: 'new extension' },
    ]);
  });

  it('is empty for equivalent registries', async () => {
    const a = await load(before);
    const b = await load(`# only a comment differs\n${before}`);
    expect(a.version).not.toBe(b.version);
    expect(planRegistryChange(a, b)).toEqual([]);
  });
});
