import { cp, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import type { Registry, SpecIssue } from '../../src/registry/types.ts';
import { watchRegistry, type RegistryWatcher } from '../../src/registry/watch.ts';
import { waitUntil } from '../support/wait-until.ts';

const seed = fileURLToPath(new URL('../fixtures/registries/seed', import.meta.url));

async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = join(path, '..', `.tmp-${Math.random().toString(36).slice(2)}`);
  await writeFile(temp, text);
  await rename(temp, path);
}

/** `count` valid static features of entity `bulk`: a registry file that takes a while to parse. */
function manyFeatures(count: number): string {
  let text = 'features:\n  bulk:\n';
  for (let i = 0; i < count; i++) {
    text += `    f${i}:\n      featureType: static\n      events:\n        - streamName: bulk_event\n          topic: t${i % 7}\n          fields: [{ name: v${i}, type: int }]\n`;
  }
  return text;
}

/** The longest gap between timer ticks of this thread while `work` runs: how long it was blocked. */
async function longestStall(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(longest, performance.now() - last);
}

describe('registry reloads are compiled off the serving thread', () => {
  let dir: string;
  let watcher: RegistryWatcher | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'larder-spec-offthread-'));
    await cp(seed, dir, { recursive: true });
  });
  afterEach(async () => {
    watcher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a large change compiles without blocking this thread, and applies frozen', async () => {
    const holder = new RegistryHolder(await loadRegistry(dir));
    const applied: Registry[] = [];
    watcher = watchRegistry(dir, holder, { debounceMs: 20, pollMs: 50, onApplied: (r) => applied.push(r) });
    const text = manyFeatures(2_000);
    // On this thread, the same compile blocks for the whole parse.
    const started = performance.now();
    await loadRegistry(dir); // warm-up of the loader's modules
    const stall = await longestStall(async () => {
      await writeAtomic(join(dir, 'bulk.yaml'), text);
      await waitUntil(() => applied.length === 1, 60_000, 'the large registry to apply');
    });
    expect(holder.current.featuresByEntity.get('bulk')?.size).toBe(2_000);
    expect(Object.isFrozen(holder.current.features)).toBe(true);
    expect(Object.isFrozen(holder.current.features[0])).toBe(true);
    const onThread = await longestStall(async () => {
      await loadRegistry(dir);
    });
    // The serving thread stayed responsive while the compile that blocks for `onThread` ran.
    expect(onThread).toBeGreaterThan(200);
    expect(stall).toBeLessThan(onThread / 3);
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 90_000);

  it('an alias bomb dropped into a watched registry is refused at once; the registry stays', async () => {
    const holder = new RegistryHolder(await loadRegistry(dir));
    const before = holder.current;
    const rejected: (readonly SpecIssue[])[] = [];
    watcher = watchRegistry(dir, holder, {
      debounceMs: 20,
      pollMs: 50,
      onRejected: (issues) => rejected.push(issues),
    });
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 11; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    await writeAtomic(join(dir, 'bomb.yaml'), `${lines.join('\n')}\n`);
    await waitUntil(() => rejected.length === 1, 20_000, 'the bomb to be refused');
    expect(rejected[0]?.map((i) => i.code)).toContain('LARDER_ERR_SPEC_ALIAS');
    expect(holder.current).toBe(before);
  }, 30_000);

  it('a compile that overruns its time bound is refused with an issue, not waited for', async () => {
    const holder = new RegistryHolder(await loadRegistry(dir));
    const rejected: (readonly SpecIssue[])[] = [];
    watcher = watchRegistry(dir, holder, {
      debounceMs: 20,
      pollMs: 50,
      compile: { timeoutMs: 1 },
      onRejected: (issues) => rejected.push(issues),
    });
    await writeAtomic(join(dir, 'bulk.yaml'), manyFeatures(10));
    await waitUntil(() => rejected.length === 1, 20_000, 'the overrun to be refused');
    expect(rejected[0]?.map((i) => `${i.code} ${i.message}`)).toEqual([
      'LARDER_ERR_SPEC_INVALID compiling the registry took longer than 0 s',
    ]);
  }, 30_000);
});
