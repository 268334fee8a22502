import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register as registerStore, initStore } from '../../src/cli/commands/store.ts';
import { parseByteSize } from '../../src/config/byte-size.ts';
import { DEFAULT_LOCAL_MAX_BYTES, loadConfig } from '../../src/config/config.ts';
import { createStoreFromConfig } from '../../src/runtime/create-store.ts';
import { isLarderError, type LarderError } from '../../src/errors.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import { cacheRegistry, click, namespace, single, userId } from '../cache/cache-fixtures.ts';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';

let dir: string;
let dyn: DynaliteHandle;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'larder-config-'));
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

function configError(fn: () => unknown): LarderError {
  try {
    fn();
  } catch (err) {
    if (isLarderError(err)) return err;
    throw err;
  }
  throw new Error('expected a LarderError');
}

describe('loadConfig', () => {
  it('zero config: embedded LMDB and a 256 MB in-process cache', () => {
    const config = loadConfig(undefined, {});
    expect(config.store.type).toBe('lmdb');
    expect(config.store.path).toBeUndefined();
    expect(config.cache).toEqual({ local: { maxBytes: DEFAULT_LOCAL_MAX_BYTES }, redis: undefined });
    expect(DEFAULT_LOCAL_MAX_BYTES).toBe(256 * 1024 * 1024);
  });

  it('reads the distributed layout with exactly the documented keys', async () => {
    const f = await file(`
store:
  type: dynamodb
  table: features
  endpoint: http://127.0.0.1:8000
  region: eu-west-1
cache:
  local: {maxBytes: 64mb}
  redis: {url: "redis://10.0.0.5:6379"}
batch: {mode: distributed}
streams: {client_event: {connection: {brokers: [k:9092]}}}
`);
    expect(loadConfig(f, {})).toEqual({
      store: {
        type: 'dynamodb',
        path: undefined,
        table: 'features',
        endpoint: 'http://127.0.0.1:8000',
        region: 'eu-west-1',
      },
      cache: { local: { maxBytes: 64 * 1024 * 1024 }, redis: { url: 'redis://10.0.0.5:6379' } },
      file: f,
    });
  });

  it('resolves store.path against the config file; omitting a level disables it; cache: {} disables all', async () => {
    const a = loadConfig(
      await file('store: {type: lmdb, path: ./data}\ncache: {redis: {url: "redis://h:1"}}\n'),
      {},
    );
    expect(a.store.path).toBe(path.join(dir, 'data'));
    expect(a.cache).toEqual({ local: undefined, redis: { url: 'redis://h:1' } });
    expect(loadConfig(await file('cache: {}\n'), {}).cache).toEqual({ local: undefined, redis: undefined });
    expect(loadConfig(await file('cache: {local: {}}\n'), {}).cache.local).toEqual({
      maxBytes: DEFAULT_LOCAL_MAX_BYTES,
    });
  });

  it('environment variables override the file, and LARDER_CONFIG names the file', async () => {
    const f = await file('store: {type: dynamodb, table: t_one}\ncache: {local: {maxBytes: 1mb}}\n');
    const config = loadConfig(undefined, {
      LARDER_CONFIG: f,
      LARDER_STORE_TYPE: 'dynamodb',
      LARDER_STORE_TABLE: 't_two',
      LARDER_STORE_ENDPOINT: 'http://127.0.0.1:9',
      LARDER_STORE_REGION: 'ap-northeast-2',
      LARDER_CACHE_LOCAL_MAX_BYTES: 'off',
      LARDER_CACHE_REDIS_URL: 'redis://127.0.0.1:6380',
    });
    expect(config.store).toEqual({
      type: 'dynamodb',
      path: undefined,
      table: 't_two',
      endpoint: 'http://127.0.0.1:9',
      region: 'ap-northeast-2',
    });
    expect(config.cache).toEqual({ local: undefined, redis: { url: 'redis://127.0.0.1:6380' } });
    expect(loadConfig(f, { LARDER_CACHE_LOCAL_MAX_BYTES: '2gb' }).cache.local).toEqual({
      maxBytes: 2 * 1024 ** 3,
    });
  });

  it.each([
    ['store: {type: mongo}', 'store.type must be lmdb or dynamodb'],
    ['store: {tabel: x}', 'store.tabel is not a known key'],
    ['cache: {local: {maxBytes: lots}}', 'cache.local.maxBytes must be a size'],
    ['cache: {local: {maxBytes: 1mb, ttl: 5}}', 'cache.local.ttl is not a known key'],
    ['cache: {redis: {url: "http://x"}}', 'cache.redis.url must be a redis://'],
    ['cache: {redis: {}}', 'cache.redis.url is required'],
    ['cache: {memcached: {}}', 'cache.memcached is not a known key'],
    ['store: {type: dynamodb, endpoint: "not a url"}', 'store.endpoint must be an http(s) URL'],
    ['store: {type: dynamodb, table: "a b"}', 'store.table must be'],
    ['store: [lmdb]', 'store must be a map'],
  ])('rejects %s with LARDER_ERR_CONFIG naming the key', async (yaml, message) => {
    const f = await file(`${yaml}\n`);
    const err = configError(() => loadConfig(f, {}));
    expect(err.code).toBe('LARDER_ERR_CONFIG');
    expect(err.message).toContain(message);
    expect(err.message).toContain(f);
  });

  it('reports every problem at once, and YAML errors with line:column', async () => {
    const many = await file('store: {type: mongo, tabel: x}\ncache: {local: {maxBytes: -1}}\n');
    const err = configError(() => loadConfig(many, {}));
    expect(err.details?.problems).toHaveLength(3);
    const broken = await file('store:\n  type: lmdb\n   path: x\n');
    expect(configError(() => loadConfig(broken, {})).message).toMatch(/:2:9: invalid YAML/);
    expect(configError(() => loadConfig(path.join(dir, 'missing.yaml'), {})).message).toContain(
      'cannot read config',
    );
    expect(
      configError(() => loadConfig(undefined, { LARDER_CACHE_LOCAL_MAX_BYTES: 'huge' })).message,
    ).toContain('LARDER_CACHE_LOCAL_MAX_BYTES');
  });

  it('parses sizes', () => {
    expect(parseByteSize('256mb')).toBe(268_435_456);
    expect(parseByteSize('1.5GB')).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize(4096)).toBe(4096);
    expect(parseByteSize('4096')).toBe(4096);
    expect(parseByteSize('12 parsecs')).toBeUndefined();
  });
});

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
