import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register as registerStore, initStore } from '../../src/cli/commands/store.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createStoreFromConfig } from '../../src/runtime/create-store.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import { cacheRegistry, click, namespace, single, userId } from '../cache/cache-fixtures.ts';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';

let dir: string;
let dyn: DynaliteHandle;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'larder-store-init-'));
  dyn = await startDynalite();
});
afterAll(async () => {
  await dyn.close();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function file(yaml: string): Promise<string> {
  const f = path.join(dir, `config-${++n}.yaml`);
  await writeFile(f, yaml);
  return f;
}

describe('createStoreFromConfig and larder store init', () => {
  it('embedded default without cache levels is the plain LMDB store', async () => {
    const config = loadConfig(await file('cache: {}\n'), {});
    const store = createStoreFromConfig(config, {
      registry: await cacheRegistry(),
      dataDir: path.join(dir, 'plain'),
    });
    expect(store).toBeInstanceOf(LmdbStore);
  });

  it('store init creates the DynamoDB table; the configured store then serves through Redis', async () => {
    const table = `cfg_${userId()}`;
    const f = await file(
      `store: {type: dynamodb, table: ${table}, endpoint: "${dyn.endpoint}"}\n` +
        `cache: {local: {maxBytes: 8mb}, redis: {url: "redis://127.0.0.1:6379"}}\n`,
    );
    // Through commander, as `larder store init --config <file>` runs it.
    const program = new Command('larder').exitOverride();
    registerStore(program);
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'larder', 'store', 'init', '--config', f]);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toContain(`DynamoDB table "${table}" at ${dyn.endpoint}: created`);
    expect(await initStore({ config: f, data: dir })).toContain('already exists');

    const store = createStoreFromConfig(loadConfig(f, {}), { registry: await cacheRegistry(), dataDir: dir });
    expect(store.name).toBe('dynamodb+local+redis');
    await store.open();
    const u = userId();
    await store.write([single(`u:${u}#os`, 'ios', 1), click(`u:${u}#clicks`, 5, 'e1', 7)]);
    expect((await store.getStatic([`u:${u}#os`]))[0]?.value).toBe('ios');
    const [rows] = await store.getRanges([{ pk: `u:${u}#clicks`, count: 5, lastNSec: undefined }]);
    expect(rows).toEqual([{ ts: 5, eventId: 'e1', values: { article_id: 7 } }]);
    await store.close();
    expect(namespace()).toMatch(/^larder-test:/);
  });
});
