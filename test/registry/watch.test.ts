import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';
import type { RegistryChange } from '../../src/registry/plan.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import type { Registry, SpecIssue } from '../../src/registry/types.ts';
import { watchRegistry, type RegistryWatcher } from '../../src/registry/watch.ts';

const seed = fileURLToPath(new URL('../fixtures/registries/seed', import.meta.url));

const regionFeature = `features:
  user:
    region_id:
      events:
        - streamName: client_event
          topic: profile
          fields: [{ name: region.id, rename: region_id, type: int }]
`;

/**
 * Writes through a dot-file and a rename, so the watcher never reads a half-written file (which
 * would be a legitimate rejection, but not the one a step of the test waits for).
 */
async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = join(path, '..', `.tmp-${Math.random().toString(36).slice(2)}`);
  await writeFile(temp, text);
  await rename(temp, path);
}

/** Callbacks turned into a queue of awaitable notifications. */
function notifications<T>(): { push: (value: T) => void; next: () => Promise<T> } {
  const values: T[] = [];
  const waiters: ((value: T) => void)[] = [];
  return {
    push(value) {
      const waiter = waiters.shift();
      if (waiter !== undefined) waiter(value);
      else values.push(value);
    },
    next() {
      const value = values.shift();
      if (value !== undefined) return Promise.resolve(value);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

describe('watchRegistry', () => {
  let dir: string;
  let watcher: RegistryWatcher | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'larder-spec-watch-'));
    await cp(seed, dir, { recursive: true });
  });
  afterEach(async () => {
    watcher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies a valid change, refuses a broken one and keeps the old registry', async () => {
    const holder = new RegistryHolder(await loadRegistry(dir));
    const initial = holder.current;
    const applied = notifications<{ next: Registry; changes: readonly RegistryChange[] }>();
    const rejected = notifications<readonly SpecIssue[]>();
    const swaps: string[] = [];
    holder.onChange((next) => swaps.push(next.version));
    watcher = watchRegistry(dir, holder, {
      debounceMs: 30,
      pollMs: 100,
      onApplied: (next, changes) => applied.push({ next, changes }),
      onRejected: (issues) => rejected.push(issues),
    });

    // A valid change: a new file with a new feature.
    await writeAtomic(join(dir, 'region.yaml'), regionFeature);
    const first = await applied.next();
    expect(holder.current).toBe(first.next);
    expect(first.next.version).not.toBe(initial.version);
    expect(holder.current.featuresByEntity.get('user')?.has('region_id')).toBe(true);
    expect(first.changes).toEqual([
      { kind: 'feature', name: 'user.region_id', change: 'added', reason: 'new feature' },
    ]);

    // A broken change: refused, and the registry in force stays the same object.
    const seedText = await readFile(join(dir, 'features.yaml'), 'utf8');
    await writeAtomic(join(dir, 'features.yaml'), seedText.replace('optype: equal      #', 'optype: equl #'));
    const issues = await rejected.next();
    expect(issues.map((i) => `${i.code} ${i.file}:${i.line}:${i.column}`)).toEqual([
      'LARDER_ERR_SPEC_OPTYPE features.yaml:15:25',
    ]);
    expect(holder.current).toBe(first.next);

    // Fixing it applies again.
    await writeAtomic(
      join(dir, 'features.yaml'),
      seedText.replace('featureType: action', 'featureType: action\n      maxCount: 20'),
    );
    const second = await applied.next();
    expect(second.next.featuresByEntity.get('user')?.get('recent_view_articles')?.maxCount).toBe(20);
    expect(second.changes).toEqual([
      { kind: 'feature', name: 'user.recent_view_articles', change: 'changed', reason: 'maxCount 100 → 20' },
    ]);
    expect(swaps).toEqual([first.next.version, second.next.version]);
  });

  it('keeps running when a listener throws', async () => {
    const holder = new RegistryHolder(await loadRegistry(dir));
    const applied = notifications<Registry>();
    let calls = 0;
    watcher = watchRegistry(dir, holder, {
      debounceMs: 30,
      pollMs: 100,
      onApplied: (next) => {
        calls += 1;
        applied.push(next);
        throw new Error('listener failure');
      },
    });
    await writeAtomic(join(dir, 'region.yaml'), regionFeature);
    await applied.next();
    await writeAtomic(join(dir, 'region.yaml'), regionFeature.replace('type: int', 'type: string'));
    const second = await applied.next();
    expect(calls).toBe(2);
    expect(second.featuresByEntity.get('user')?.get('region_id')?.fields[0]?.type.scalar).toBe('string');
  });
});
