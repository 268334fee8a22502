/**
 * The runtime config: which store and which cache levels a Larder process uses. It is the
 * `store:` and `cache:` sections of the file given with `--config` (other sections, such as
 * `batch:` and `streams:`, belong to other components and are left alone here):
 *
 * ```yaml
 * store:
 *   type: dynamodb                   # lmdb (default) | dynamodb
 *   path: ./data                     # lmdb: data directory (relative to this file)
 *   table: larder                    # dynamodb (default larder)
 *   endpoint: http://127.0.0.1:8000  # dynamodb, optional: a DynamoDB-compatible endpoint
 *   region: us-east-1                # dynamodb (default: AWS_REGION, else us-east-1)
 * cache:
 *   local: {maxBytes: 256mb}         # in-process level; omit a level to disable it
 *   redis: {url: "redis://127.0.0.1:6379"}
 * ```
 *
 * With no file at all, Larder runs the zero-config default: LMDB in the data directory and a
 * 256 MB in-process cache. A file without a `cache:` section gets that same default cache;
 * `cache: {}` turns every level off.
 *
 * Environment variables override the file (documented in docs/operations.md):
 * `LARDER_CONFIG` (the file, when no path is passed), `LARDER_STORE_TYPE`, `LARDER_STORE_PATH`,
 * `LARDER_STORE_TABLE`, `LARDER_STORE_ENDPOINT`, `LARDER_STORE_REGION`,
 * `LARDER_CACHE_LOCAL_MAX_BYTES` (`off` disables the level), `LARDER_CACHE_REDIS_URL` (`off`
 * disables the level).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { LarderError } from '../errors.ts';
import { parseByteSize } from './byte-size.ts';

export interface StoreConfig {
  readonly type: 'lmdb' | 'dynamodb';
  /** lmdb: data directory, absolute. Undefined: the `--data` directory. */
  readonly path: string | undefined;
  readonly table: string;
  readonly endpoint: string | undefined;
  readonly region: string;
}

export interface CacheConfig {
  /** Undefined: no in-process level. */
  readonly local: { readonly maxBytes: number } | undefined;
  /** Undefined: no Redis level. */
  readonly redis: { readonly url: string } | undefined;
}

export interface LarderConfig {
  readonly store: StoreConfig;
  readonly cache: CacheConfig;
  /** The file it came from, if any. */
  readonly file: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_LOCAL_MAX_BYTES = 256 * 1024 ** 2;
const STORE_KEYS = ['type', 'path', 'table', 'endpoint', 'region'] as const;
const CACHE_KEYS = ['local', 'redis'] as const;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * Reads and validates the runtime config. `file` (or `LARDER_CONFIG`) names a YAML file; without
 * one the zero-config default applies. Every problem is reported at once in one
 * `LARDER_ERR_CONFIG` error naming the key (`details.problems` lists them).
 */
export function loadConfig(file?: string, env: Env = process.env): LarderConfig {
  const source = file ?? nonEmpty(env.LARDER_CONFIG);
  const problems: string[] = [];
  let doc: Record<string, unknown> = {};
  if (source !== undefined) doc = readYaml(source);
  const base = source === undefined ? process.cwd() : path.dirname(path.resolve(source));

  const storeNode = sectionOf(doc, 'store', problems);
  const cacheNode = sectionOf(doc, 'cache', problems);
  unknownKeys(storeNode, STORE_KEYS, 'store', problems);
  unknownKeys(cacheNode, CACHE_KEYS, 'cache', problems);

  const type = nonEmpty(env.LARDER_STORE_TYPE) ?? str(storeNode?.type, 'store.type', problems) ?? 'lmdb';
  if (type !== 'lmdb' && type !== 'dynamodb') {
    problems.push(`store.type must be lmdb or dynamodb (got ${JSON.stringify(type)})`);
  }
  const rawPath = nonEmpty(env.LARDER_STORE_PATH) ?? str(storeNode?.path, 'store.path', problems);
  const table =
    nonEmpty(env.LARDER_STORE_TABLE) ?? str(storeNode?.table, 'store.table', problems) ?? 'larder';
  if (!TABLE_NAME.test(table)) {
    problems.push(
      `store.table must be 3-255 characters of letters, digits, _ . - (got ${JSON.stringify(table)})`,
    );
  }
  const endpoint =
    nonEmpty(env.LARDER_STORE_ENDPOINT) ?? str(storeNode?.endpoint, 'store.endpoint', problems);
  if (endpoint !== undefined && !isUrl(endpoint, ['http:', 'https:'])) {
    problems.push(`store.endpoint must be an http(s) URL (got ${JSON.stringify(endpoint)})`);
  }
  const region =
    nonEmpty(env.LARDER_STORE_REGION) ??
    str(storeNode?.region, 'store.region', problems) ??
    nonEmpty(env.AWS_REGION) ??
    'us-east-1';

  const cache: CacheConfig = {
    local: localLevel(cacheNode, doc, env, problems),
    redis: redisLevel(cacheNode, env, problems),
  };
  if (problems.length > 0) {
    const where = source === undefined ? 'config' : `config ${source}`;
    throw new LarderError('LARDER_ERR_CONFIG', `${where}: ${problems.join('; ')}`, {
      details: { file: source, problems },
    });
  }
  return {
    store: {
      type: type as StoreConfig['type'],
      path: rawPath === undefined ? undefined : path.resolve(base, rawPath),
      table,
      endpoint,
      region,
    },
    cache,
    file: source,
  };
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LarderError('LARDER_ERR_CONFIG', `cannot read config ${file}: ${(err as Error).message}`, {
      details: { file },
    });
  }
  const parsed = parseDocument(text, { prettyErrors: true });
  const error = parsed.errors[0];
  if (error !== undefined) {
    const at = error.linePos?.[0];
    throw new LarderError(
      'LARDER_ERR_CONFIG',
      `config ${file}${at === undefined ? '' : `:${at.line}:${at.col}`}: invalid YAML: ${error.message.split('\n')[0]}`,
      { details: { file } },
    );
  }
  if (parsed.contents === null) return {};
  if (!isMap(parsed.contents)) {
    throw new LarderError('LARDER_ERR_CONFIG', `config ${file}: the top level must be a map of sections`, {
      details: { file },
    });
  }
  return parsed.toJS() as Record<string, unknown>;
}

function sectionOf(
  doc: Record<string, unknown>,
  key: string,
  problems: string[],
): Record<string, unknown> | undefined {
  const value = doc[key];
  if (value === undefined || value === null) return value === null ? {} : undefined;
  if (typeof value !== 'object' || Array.isArray(value) || isSeq(value)) {
    problems.push(`${key} must be a map`);
    return undefined;
  }
  return value as Record<string, unknown>;
}

function unknownKeys(
  node: Record<string, unknown> | undefined,
  allowed: readonly string[],
  where: string,
  problems: string[],
): void {
  if (node === undefined) return;
  for (const key of Object.keys(node)) {
    if (!allowed.includes(key))
      problems.push(`${where}.${key} is not a known key (allowed: ${allowed.join(', ')})`);
  }
}

function localLevel(
  cacheNode: Record<string, unknown> | undefined,
  doc: Record<string, unknown>,
  env: Env,
  problems: string[],
): CacheConfig['local'] {
  const override = nonEmpty(env.LARDER_CACHE_LOCAL_MAX_BYTES);
  if (override === 'off') return undefined;
  if (override !== undefined) {
    const bytes = parseByteSize(override);
    if (bytes === undefined || bytes <= 0) {
      problems.push(
        `LARDER_CACHE_LOCAL_MAX_BYTES must be a size like 256mb, or off (got ${JSON.stringify(override)})`,
      );
      return undefined;
    }
    return { maxBytes: bytes };
  }
  // No cache section at all: the zero-config default keeps the in-process level on.
  if (cacheNode === undefined) return 'cache' in doc ? undefined : { maxBytes: DEFAULT_LOCAL_MAX_BYTES };
  const node = cacheNode.local;
  if (node === undefined) return undefined;
  if (node === null) return { maxBytes: DEFAULT_LOCAL_MAX_BYTES };
  if (typeof node !== 'object' || Array.isArray(node)) {
    problems.push('cache.local must be a map like {maxBytes: 256mb}');
    return undefined;
  }
  const local = node as Record<string, unknown>;
  unknownKeys(local, ['maxBytes'], 'cache.local', problems);
  if (local.maxBytes === undefined) return { maxBytes: DEFAULT_LOCAL_MAX_BYTES };
  const bytes = parseByteSize(local.maxBytes);
  if (bytes === undefined || bytes <= 0) {
    problems.push(
      `cache.local.maxBytes must be a size like 256mb or 1gb (got ${JSON.stringify(local.maxBytes)})`,
    );
    return undefined;
  }
  return { maxBytes: bytes };
}

function redisLevel(
  cacheNode: Record<string, unknown> | undefined,
  env: Env,
  problems: string[],
): CacheConfig['redis'] {
  const override = nonEmpty(env.LARDER_CACHE_REDIS_URL);
  if (override === 'off') return undefined;
  let url = override;
  if (url === undefined) {
    const node = cacheNode?.redis;
    if (node === undefined) return undefined;
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      problems.push('cache.redis must be a map like {url: "redis://127.0.0.1:6379"}');
      return undefined;
    }
    const redis = node as Record<string, unknown>;
    unknownKeys(redis, ['url'], 'cache.redis', problems);
    url = str(redis.url, 'cache.redis.url', problems);
    if (url === undefined) {
      if (redis.url === undefined) problems.push('cache.redis.url is required');
      return undefined;
    }
  }
  if (!isUrl(url, ['redis:', 'rediss:'])) {
    problems.push(`cache.redis.url must be a redis:// or rediss:// URL (got ${JSON.stringify(url)})`);
    return undefined;
  }
  return { url };
}

function str(value: unknown, key: string, problems: string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`${key} must be a non-empty string (got ${JSON.stringify(value)})`);
    return undefined;
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function isUrl(text: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(text).protocol);
  } catch {
    return false;
  }
}
