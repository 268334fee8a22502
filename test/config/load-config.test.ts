import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseByteSize } from '../../src/config/byte-size.ts';
import { DEFAULT_LOCAL_MAX_BYTES } from '../../src/config/cache-section.ts';
import { checkConfig, ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { tempDir } from '../support/temp-dir.ts';

const tmp = tempDir('larder-config-');
afterAll(() => tmp.remove());

let n = 0;
function file(yaml: string): string {
  const f = path.join(tmp.dir, `config-${++n}.yaml`);
  writeFileSync(f, yaml);
  return f;
}

/** The problems of a config, one line each: `where  CODE  message`. */
function problems(f: string | undefined, env: Record<string, string> = {}): string[] {
  return checkConfig(f, env).issues.map((i) => `${i.where}  ${i.code}  ${i.message}`);
}

describe('loadConfig: sections and defaults', () => {
  it('zero config: embedded LMDB, a 256 MB in-process cache, and every section at its defaults', () => {
    const config = loadConfig(undefined, {});
    expect(config.file).toBeUndefined();
    expect(config.store).toEqual({
      type: 'lmdb',
      path: undefined,
      table: 'larder',
      endpoint: undefined,
      region: 'us-east-1',
    });
    expect(config.cache).toEqual({ local: { maxBytes: DEFAULT_LOCAL_MAX_BYTES }, redis: undefined });
    expect(DEFAULT_LOCAL_MAX_BYTES).toBe(256 * 1024 * 1024);
    expect(config.streams.size).toBe(0);
    expect(config.serve).toEqual({
      workers: undefined,
      hotEntityTtlMs: 30_000,
      semiSpaceMb: 128,
      fastPath: true,
      introspection: true,
      limits: {},
      auth: {},
      console: { enabled: true, sampleIntervalMs: 5_000 },
    });
    expect(config.batch).toMatchObject({
      mode: 'embedded',
      redisUrl: 'redis://127.0.0.1:6379',
      prefix: 'larder',
      targetSeconds: 120,
      stuckAfterMs: 600_000,
      lockDurationMs: 30_000,
      consoleUrl: 'http://127.0.0.1:4000',
    });
    expect(config.warnings).toEqual([]);
  });

  it('reads every section of a full file, durations and sizes with units', () => {
    const f = file(`
store:
  type: dynamodb
  table: features
  endpoint: http://127.0.0.1:8000
  region: eu-west-1
cache:
  local: {maxBytes: 64mb}
  redis: {url: "redis://10.0.0.5:6379"}
streams:
  client_event:
    connection: {brokers: ["k:9092"]}
    options: {concurrency: {max: 64}}
    group: larder-prod
serve:
  workers: 4
  hotEntityTtl: 30s
  fastPath: false
  limits: {maxDepth: 8, maxIdsPerQuery: 500, maxRowsPerRequest: 10000, maxQueryBytes: 16kb, maxBodyBytes: 2mb}
  auth: {readKeys: [read-key-0123456789], adminKeys: [admin-key-0123456789], publicMetrics: true}
  console: {enabled: false, sampleInterval: 2s}
batch:
  mode: distributed
  redis: {url: "redis://10.0.0.6:6379"}
  prefix: prod
  threads: 3
  targetDuration: 5m
  stuckAfter: 1h
  lockDuration: 45s
  webhook: https://hooks.example.com/larder
  consoleUrl: https://larder.example.com/
  s3: {region: eu-west-1, forcePathStyle: true}
`);
    const config = loadConfig(f, {});
    expect(config.file).toBe(f);
    expect(config.store).toEqual({
      type: 'dynamodb',
      path: undefined,
      table: 'features',
      endpoint: 'http://127.0.0.1:8000',
      region: 'eu-west-1',
    });
    expect(config.cache).toEqual({
      local: { maxBytes: 64 * 1024 ** 2 },
      redis: { url: 'redis://10.0.0.5:6379' },
    });
    expect(config.streams.get('client_event')).toEqual({
      connection: { brokers: ['k:9092'] },
      options: { concurrency: { max: 64 } },
      group: 'larder-prod',
    });
    expect(config.serve).toEqual({
      workers: 4,
      hotEntityTtlMs: 30_000,
      semiSpaceMb: 128,
      fastPath: false,
      introspection: true,
      limits: {
        maxDepth: 8,
        maxIdsPerQuery: 500,
        maxRowsPerRequest: 10_000,
        maxQueryBytes: 16 * 1024,
        maxBodyBytes: 2 * 1024 ** 2,
      },
      auth: { readKeys: ['read-key-0123456789'], adminKeys: ['admin-key-0123456789'], publicMetrics: true },
      console: { enabled: false, sampleIntervalMs: 2_000 },
    });
    expect(config.batch).toEqual({
      mode: 'distributed',
      redisUrl: 'redis://10.0.0.6:6379',
      prefix: 'prod',
      threads: 3,
      targetSeconds: 300,
      stuckAfterMs: 3_600_000,
      webhook: 'https://hooks.example.com/larder',
      consoleUrl: 'https://larder.example.com',
      lockDurationMs: 45_000,
      s3: { region: 'eu-west-1', forcePathStyle: true },
    });
  });

  it('resolves store.path against the file; omitting a level disables it; cache: {} disables all', () => {
    const a = loadConfig(
      file('store: {type: lmdb, path: ./data}\ncache: {redis: {url: "redis://h:1"}}\n'),
      {},
    );
    expect(a.store.path).toBe(path.join(tmp.dir, 'data'));
    expect(a.cache).toEqual({ local: undefined, redis: { url: 'redis://h:1' } });
    expect(loadConfig(file('cache: {}\n'), {}).cache).toEqual({ local: undefined, redis: undefined });
    expect(loadConfig(file('cache:\n'), {}).cache).toEqual({ local: undefined, redis: undefined });
    expect(loadConfig(file('cache: {local: {}}\n'), {}).cache.local).toEqual({
      maxBytes: DEFAULT_LOCAL_MAX_BYTES,
    });
    // Every Redis connection is {url}, with the same default.
    expect(loadConfig(file('cache: {redis: {}}\n'), {}).cache.redis).toEqual({
      url: 'redis://127.0.0.1:6379',
    });
    expect(loadConfig(file('batch: {redis: {}}\n'), {}).batch.redisUrl).toBe('redis://127.0.0.1:6379');
    // An empty file is the zero-config default.
    expect(loadConfig(file(''), {}).cache.local).toEqual({ maxBytes: DEFAULT_LOCAL_MAX_BYTES });
  });
});

describe('loadConfig: the environment overrides the file', () => {
  it('store and cache variables, and LARDER_CONFIG names the file', () => {
    const f = file('store: {type: dynamodb, table: t_one}\ncache: {local: {maxBytes: 1mb}}\n');
    const config = loadConfig(undefined, {
      LARDER_CONFIG: f,
      LARDER_STORE_TYPE: 'dynamodb',
      LARDER_STORE_TABLE: 't_two',
      LARDER_STORE_ENDPOINT: 'http://127.0.0.1:9',
      LARDER_STORE_REGION: 'ap-northeast-2',
      LARDER_CACHE_LOCAL_MAX_BYTES: 'off',
    });
    expect(config.file).toBe(f);
    expect(config.store).toEqual({
      type: 'dynamodb',
      path: undefined,
      table: 't_two',
      endpoint: 'http://127.0.0.1:9',
      region: 'ap-northeast-2',
    });
    expect(config.cache).toEqual({ local: undefined, redis: undefined });
    expect(loadConfig(f, { LARDER_CACHE_LOCAL_MAX_BYTES: '2gb' }).cache.local).toEqual({
      maxBytes: 2 * 1024 ** 3,
    });
    expect(loadConfig(undefined, { AWS_REGION: 'sa-east-1' }).store.region).toBe('sa-east-1');
  });

  it('LARDER_REDIS_URL is the URL of every Redis connection the file uses, and turns no level on', () => {
    const url = 'redis://10.1.1.1:6379';
    const withLevel = loadConfig(file('cache: {local: {}, redis: {url: "redis://h:1"}}\n'), {
      LARDER_REDIS_URL: url,
    });
    expect(withLevel.cache.redis).toEqual({ url });
    expect(withLevel.batch.redisUrl).toBe(url);
    const withoutLevel = loadConfig(file('cache: {local: {}}\n'), { LARDER_REDIS_URL: url });
    expect(withoutLevel.cache.redis).toBeUndefined();
    expect(withoutLevel.batch.redisUrl).toBe(url);
  });

  it('serve and batch variables', () => {
    const config = loadConfig(undefined, {
      LARDER_HOT_ENTITY_TTL: '45s',
      LARDER_SERVE_FAST_PATH: '0',
      LARDER_MAX_DEPTH: '7',
      LARDER_MAX_IDS: '20',
      LARDER_MAX_ROWS: '300',
      LARDER_MAX_QUERY_BYTES: '8kb',
      LARDER_MAX_BODY_BYTES: '65536',
      LARDER_AUTH: 'on',
      LARDER_API_KEYS: 'aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb',
      LARDER_INGEST_KEYS: 'cccccccccccccccc',
      LARDER_ADMIN_KEYS: 'dddddddddddddddd',
      LARDER_METRICS_PUBLIC: '1',
      LARDER_BATCH_WEBHOOK: 'https://hooks.example.com/x',
      LARDER_CONSOLE_URL: 'https://console.example.com',
      LARDER_CONSOLE: '0',
      LARDER_CONSOLE_SAMPLE_INTERVAL: '1s',
    });
    expect(config.serve).toEqual({
      workers: undefined,
      hotEntityTtlMs: 45_000,
      semiSpaceMb: 128,
      fastPath: false,
      introspection: true,
      limits: {
        maxDepth: 7,
        maxIdsPerQuery: 20,
        maxRowsPerRequest: 300,
        maxQueryBytes: 8192,
        maxBodyBytes: 65_536,
      },
      auth: {
        enabled: true,
        readKeys: ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'],
        ingestKeys: ['cccccccccccccccc'],
        adminKeys: ['dddddddddddddddd'],
        publicMetrics: true,
      },
      console: { enabled: false, sampleIntervalMs: 1_000 },
    });
    expect(config.batch.webhook).toBe('https://hooks.example.com/x');
    expect(config.batch.consoleUrl).toBe('https://console.example.com');
  });

  it('old names still work, with a deprecation warning; the new name wins when both are set', () => {
    const old = loadConfig(undefined, {
      LARDER_HOT_ENTITY_TTL_MS: '1500',
      LARDER_CACHE_REDIS_URL: 'redis://h:2',
    });
    expect(old.serve.hotEntityTtlMs).toBe(1500);
    // The old cache variable still turns the level on, beside the default in-process level.
    expect(old.cache).toEqual({
      local: { maxBytes: DEFAULT_LOCAL_MAX_BYTES },
      redis: { url: 'redis://h:2' },
    });
    expect(old.warnings.map((w) => w.where)).toEqual([
      '$LARDER_CACHE_REDIS_URL',
      '$LARDER_HOT_ENTITY_TTL_MS',
    ]);
    expect(old.warnings[1]?.message).toContain('use `LARDER_HOT_ENTITY_TTL`');
    expect(
      loadConfig(file('cache: {redis: {}}\n'), { LARDER_CACHE_REDIS_URL: 'off' }).cache.redis,
    ).toBeUndefined();
    const both = loadConfig(undefined, { LARDER_HOT_ENTITY_TTL_MS: '1500', LARDER_HOT_ENTITY_TTL: '2s' });
    expect(both.serve.hotEntityTtlMs).toBe(2000);
  });

  it('a bad value from a variable is reported at the variable', () => {
    expect(
      problems(undefined, { LARDER_CACHE_LOCAL_MAX_BYTES: 'huge', LARDER_HOT_ENTITY_TTL: '30' }),
    ).toEqual([
      '$LARDER_CACHE_LOCAL_MAX_BYTES  LARDER_ERR_CONFIG_VALUE  cache.local.maxBytes must be a size like 256mb or 1gb (from LARDER_CACHE_LOCAL_MAX_BYTES="huge")',
      '$LARDER_HOT_ENTITY_TTL  LARDER_ERR_CONFIG_VALUE  serve.hotEntityTtl must be a duration like 500ms, 30s, 10m or 1h (from LARDER_HOT_ENTITY_TTL="30")',
    ]);
    expect(problems(undefined, { LARDER_AUTH: 'maybe' })[0]).toContain('$LARDER_AUTH');
  });
});

describe('loadConfig: one strict schema, every problem at once with file:line:col', () => {
  it('an unknown key at any level is an error with a did-you-mean', () => {
    const f = file(
      [
        'stroe: {type: dynamodb}', // 1
        'store: {tabel: x}', // 2
        'cache:', // 3
        '  local: {maxBytes: 1mb, ttl: 5}', // 4
        '  redis: {url: "redis://h:1", pasword: x}', // 5
        'streams:', // 6
        '  client_event: {grop: g}', // 7
        'serve:', // 8
        '  limits: {maxDepht: 3}', // 9
        '  auth: {readkeys: []}', // 10
        'batch:', // 11
        '  s3: {regoin: x}', // 12
        '',
      ].join('\n'),
    );
    expect(problems(f)).toEqual([
      `${f}:1:1  LARDER_ERR_CONFIG_UNKNOWN_KEY  unknown key "stroe" at the top level. Did you mean "store"? (allowed: store, cache, streams, serve, batch, enrich, registry)`,
      `${f}:2:9  LARDER_ERR_CONFIG_UNKNOWN_KEY  unknown key "tabel" in store. Did you mean "table"? (allowed: type, path, table, endpoint, region)`,
      `${f}:4:26  LARDER_ERR_CONFIG_UNKNOWN_KEY  unknown key "ttl" in cache.local (allowed: maxBytes)`,
      `${f}:5:31  LARDER_ERR_CONFIG_UNKNOWN_KEY  unknown key "pasword" in cache.redis (allowed: url)`,
      `${f}:7:18  LARDER_ERR_CONFIG_UNKNOWN_KEY  unknown key "grop" in streams.client_event. Did you mean "group"? (allowed: connection, options, group)`,
      `${f}:9:12  LARDER_ERR_CONFIG_UNKNOWN_KEY  unknown key "maxDepht" in serve.limits. Did you mean "maxDepth"? (allowed: maxDepth, maxFields, maxFragmentSpreads, maxIdsPerQuery, maxRowsPerRequest, maxQueryBytes, maxQueryTokens, maxBodyBytes, maxEventsPerPush, maxPersistedQueries, maxPersistedQueryBytes)`,
      `${f}:10:10  LARDER_ERR_CONFIG_UNKNOWN_KEY  unknown key "readkeys" in serve.auth. Did you mean "readKeys"? (allowed: enabled, readKeys, ingestKeys, adminKeys, publicMetrics)`,
      `${f}:12:8  LARDER_ERR_CONFIG_UNKNOWN_KEY  unknown key "regoin" in batch.s3. Did you mean "region"? (allowed: endpoint, region, forcePathStyle, accessKeyId, secretAccessKey)`,
    ]);
    expect(() => loadConfig(f, {})).toThrow(ConfigError);
  });

  it.each([
    ['store: {type: mongo}', 'store.type must be lmdb or dynamodb (got "mongo")'],
    ['store: {type: lmbd}', 'store.type must be lmdb or dynamodb (got "lmbd"). Did you mean "lmdb"?'],
    ['store: {type: dynamodb, endpoint: "not a url"}', 'store.endpoint must be a http:// or https:// URL'],
    ['store: {type: dynamodb, table: "a b"}', 'store.table must be 3-255 characters'],
    ['store: [lmdb]', 'store must be a map (got a list)'],
    [
      'cache: {local: {maxBytes: lots}}',
      'cache.local.maxBytes must be a size like 256mb or 1gb (got "lots")',
    ],
    ['cache: {redis: {url: "http://x"}}', 'cache.redis.url must be a redis:// or rediss:// URL'],
    ['streams: [a]', 'streams must be a map of stream names'],
    ['streams: {ev: {connection: 5}}', 'streams.ev.connection must be a map (got 5)'],
    ['serve: {workers: 0}', 'serve.workers must be a whole number of at least 1 (got 0)'],
    [
      'serve: {hotEntityTtl: 30}',
      'serve.hotEntityTtl must be a duration like 500ms, 30s, 10m or 1h (got 30)',
    ],
    ['serve: {fastPath: sometimes}', 'serve.fastPath must be true or false'],
    ['serve: {auth: {readKeys: abc}}', 'serve.auth.readKeys must be a list of keys (got "abc")'],
    ['batch: {mode: distrib}', 'batch.mode must be embedded or distributed (got "distrib")'],
    ['batch: {lockDuration: soon}', 'batch.lockDuration must be a duration like 500ms, 30s, 10m or 1h'],
    ['batch: {threads: 1000}', 'batch.threads must be a whole number from 1 to 256 (got 1000)'],
    [
      '- a\n- b',
      'the config file must be a map of sections (store, cache, streams, serve, batch, enrich, registry)',
    ],
  ])('rejects %s', (yaml, message) => {
    const f = file(`${yaml}\n`);
    const found = problems(f);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(message);
    expect(found[0]).toMatch(
      new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:\\d+  LARDER_ERR_CONFIG_VALUE  `),
    );
  });

  it('reports every problem at once in one ConfigError, and YAML errors with line:col', () => {
    const many = file(
      'store: {type: mongo, tabel: x}\ncache: {local: {maxBytes: -1}}\nserve: {workers: many}\n',
    );
    const err = (() => {
      try {
        loadConfig(many, {});
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.code).toBe('LARDER_ERR_CONFIG');
    expect(err.issues).toHaveLength(4);
    expect(err.message).toContain(`config ${many} has 4 problems:`);
    expect(err.message).toContain(`${many}:3:18  LARDER_ERR_CONFIG_VALUE  serve.workers must be`);

    const broken = file('store:\n  type: lmdb\n   path: x\n');
    expect(problems(broken)[0]).toContain(
      `${broken}:2:9  LARDER_ERR_CONFIG_YAML  invalid YAML: Nested mappings`,
    );
    const dup = file('store: {}\nstore: {}\n');
    expect(problems(dup)[0]).toContain('LARDER_ERR_CONFIG_YAML');
    expect(problems(path.join(tmp.dir, 'missing.yaml'))[0]).toContain(
      'LARDER_ERR_CONFIG  cannot read config',
    );
  });

  it('deprecated keys still work, with a warning at their place', () => {
    const f = file('batch:\n  redis: redis://h:3\n  workers: 3\n');
    const config = loadConfig(f, {});
    expect(config.batch.redisUrl).toBe('redis://h:3');
    expect(config.batch.threads).toBe(3);
    expect(config.warnings).toEqual([
      {
        where: `${f}:2:10`,
        message: 'batch.redis as a URL string is deprecated; write batch.redis: {url: "redis://h:3"}',
      },
      { where: `${f}:3:3`, message: 'batch.workers is deprecated (it counts threads); write batch.threads' },
    ]);
    expect(problems(file('batch: {workers: 2, threads: 3}\n'))[0]).toContain('keep only batch.threads');
  });

  it('parses sizes', () => {
    expect(parseByteSize('256mb')).toBe(268_435_456);
    expect(parseByteSize('1.5GB')).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize(4096)).toBe(4096);
    expect(parseByteSize('4096')).toBe(4096);
    expect(parseByteSize('12 parsecs')).toBeUndefined();
  });
});
