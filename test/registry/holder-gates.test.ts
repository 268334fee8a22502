import { cp, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LarderError } from '../../src/errors.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import type { Registry, SpecIssue } from '../../src/registry/types.ts';
import { watchRegistry, type RegistryWatcher } from '../../src/registry/watch.ts';
import { waitUntil } from '../support/wait-until.ts';
import { entity, feature, registry } from '../support/registry-builder.ts';

const versioned = (version: string): Registry => ({
  ...registry({ entities: [entity('user')], features: [feature('user', 'os')] }),
  version,
});

const refuse = (version: string) => (next: Registry) => {
  if (next.version === version)
    throw new LarderError('LARDER_ERR_SPEC_GRAPHQL_NAME', `cannot serve ${version}`);
};

describe('registry gates: a replacement applies everywhere or nowhere', () => {
  it('a refused registry switches neither the holder nor any listener', () => {
    const holder = new RegistryHolder(versioned('v1'));
    const seen: string[] = [];
    holder.onChange((next) => seen.push(next.version));
    holder.addGate(refuse('v2'));
    expect(() => holder.replace(versioned('v2'))).toThrow(/cannot serve v2/);
    expect(holder.current.version).toBe('v1');
    holder.replace(versioned('v3'));
    expect(seen).toEqual(['v3']);
  });

  it("a derived holder's gate guards its source: neither switches", () => {
    const source = new RegistryHolder(versioned('v1'));
    const derived = source.derive((r) => ({ ...r, version: `${r.version}+overrides` }));
    const seen: string[] = [];
    source.onChange((next) => seen.push(`source ${next.version}`));
    derived.onChange((next) => seen.push(`derived ${next.version}`));
    const gateSaw: Registry[] = [];
    derived.addGate((next) => {
      gateSaw.push(next);
      refuse('v2+overrides')(next);
    });
    expect(() => source.replace(versioned('v2'))).toThrow(/cannot serve v2\+overrides/);
    expect([source.current.version, derived.current.version]).toEqual(['v1', 'v1+overrides']);
    source.replace(versioned('v3'));
    expect(seen.sort()).toEqual(['derived v3+overrides', 'source v3']);
    // The transform ran once per registry: the gates and the replacement saw the same object.
    expect(gateSaw.map((r) => r.version)).toEqual(['v2+overrides', 'v3+overrides', 'v3+overrides']);
    expect(gateSaw[1]).toBe(derived.current);
    expect(gateSaw[2]).toBe(derived.current);
  });
});

describe('a watched reload that a gate refuses', () => {
  let dir: string | undefined;
  let watcher: RegistryWatcher | undefined;
  afterEach(async () => {
    watcher?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('is reported like an invalid registry, and the registry in force stays', async () => {
    dir = await mkdtemp(join(tmpdir(), 'larder-gate-'));
    await cp(fileURLToPath(new URL('../fixtures/registries/seed', import.meta.url)), dir, {
      recursive: true,
    });
    const holder = new RegistryHolder(await loadRegistry(dir));
    const before = holder.current;
    holder.addGate((next) => {
      if (next.featuresByEntity.get('user')?.has('refused_by_gate') === true)
        throw new LarderError('LARDER_ERR_SPEC_GRAPHQL_NAME', 'the schema cannot take refused_by_gate');
    });
    const rejected: (readonly SpecIssue[])[] = [];
    watcher = watchRegistry(dir, holder, { debounceMs: 20, pollMs: 50, onRejected: (i) => rejected.push(i) });
    const temp = join(dir, '.tmp-gate');
    await writeFile(
      temp,
      'features:\n  user:\n    refused_by_gate:\n      events: [{ streamName: client_event, topic: t, fields: [{ name: x, type: int }] }]\n',
    );
    await rename(temp, join(dir, 'gate.yaml'));
    await waitUntil(() => rejected.length === 1, 20_000, 'the gate to refuse the change');
    expect(rejected[0]?.map((i) => `${i.code} ${i.message}`)).toEqual([
      'LARDER_ERR_SPEC_GRAPHQL_NAME the schema cannot take refused_by_gate',
    ]);
    expect(holder.current).toBe(before);
  }, 30_000);
});
