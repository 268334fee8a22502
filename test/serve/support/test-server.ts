import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { createLayeredStore } from '../../../src/cache/layered-store.ts';
import { CacheMetrics } from '../../../src/cache/cache-metrics.ts';
import { LocalCacheLevel } from '../../../src/cache/local-level.ts';
import { RedisCacheLevel } from '../../../src/cache/redis-level.ts';
import { createIngestor } from '../../../src/ingest/ingestor.ts';
import type { DeadLetter, DeadLetterStore, NewDeadLetter } from '../../../src/store/dead-letters.ts';
import { partitionKey } from '../../../src/keys/keys.ts';
import { authConfigFromEnv, type AuthConfig } from '../../../src/serve/auth.ts';
import type { ServeContext } from '../../../src/serve/context.ts';
import { serveLimitsFromEnv, type ServeLimits } from '../../../src/serve/limits.ts';
import { ServeMetrics } from '../../../src/serve/metrics.ts';
import { createServer } from '../../../src/serve/server.ts';
import { loadRegistry } from '../../../src/registry/load.ts';
import { RegistryHolder } from '../../../src/registry/registry-holder.ts';
import { LmdbStore } from '../../../src/store/lmdb/lmdb-store.ts';
import type { StoreWrite } from '../../../src/store/online-store.ts';
import { tempDir } from '../../support/temp-dir.ts';
import { CountingStore as CallCountingStore } from '../counting-store.ts';
import { servingRegistryYaml } from './registry-yaml.ts';

/** Tests dig into arbitrary JSON answers; a precise type per endpoint would only restate them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJson = any;

export interface TestServerOptions {
  readonly auth?: Partial<AuthConfig>;
  readonly env?: NodeJS.ProcessEnv;
  readonly limits?: Partial<ServeLimits>;
  readonly upstreamBase?: string;
  readonly host?: string;
  readonly logger?: Logger;
  /** The hot entity cache TTL (default 0: off, so store calls can be counted exactly). */
  readonly hotEntityTtlMs?: number;
  /**
   * Serve and write through the layered store with an in-process cache level (as the embedded
   * runtime does) over the call-counting store.
   */
  readonly layered?: boolean;
  /**
   * With `layered`: a Redis cache level too (the distributed mode's shared level), on this Redis
   * and key namespace.
   */
  readonly redis?: { readonly url: string; readonly namespace: string };
  /** The compiled GraphQL fast path (default: the server's default, on). */
  readonly fastPath?: boolean;
  /** Schema introspection (default: the server's default, on). */
  readonly introspection?: boolean;
  /** The server's clock for the hot entity cache and on-demand breakers (default `Date.now`). */
  readonly now?: () => number;
  /** More registry files, by file name, beside the serving test registry. */
  readonly extraRegistryFiles?: Record<string, string>;
  /** Extra routes to add before the server listens. */
  readonly routes?: (app: FastifyInstance) => void;
}

export interface GraphQLAnswer {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

/** A real Larder server (LMDB store in a temp dir) listening on 127.0.0.1, with every serving plugin. */
export interface TestServer {
  readonly base: string;
  readonly app: FastifyInstance;
  readonly store: CallCountingStore;
  readonly registry: RegistryHolder;
  readonly metrics: ServeMetrics;
  gql(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLAnswer>;
  post(
    url: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: AnyJson }>;
  get(
    url: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; text: string }>;
  write(writes: StoreWrite[]): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const tmp = tempDir('larder-serve-');
  const registryDir = path.join(tmp.dir, 'registry');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(registryDir);
  for (const [file, text] of Object.entries({
    ...servingRegistryYaml(options.upstreamBase, options.layered === true),
    ...options.extraRegistryFiles,
  }))
    writeFileSync(path.join(registryDir, file), text);
  const registry = new RegistryHolder(await loadRegistry(registryDir));
  const store = new CallCountingStore(new LmdbStore(path.join(tmp.dir, 'data')));
  await store.open();
  const logger = options.logger ?? pino({ level: 'silent' });
  const deadLetters = new NoDeadLetters();
  const cacheMetrics = new CacheMetrics();
  const served =
    options.layered === true
      ? createLayeredStore({
          store,
          registry,
          local: new LocalCacheLevel({ maxBytes: 64 * 2 ** 20, admission: 'always' }),
          metrics: cacheMetrics,
          ...(options.redis === undefined
            ? {}
            : {
                redis: new RedisCacheLevel({
                  url: options.redis.url,
                  namespace: options.redis.namespace,
                  metrics: cacheMetrics,
                }),
              }),
        })
      : store;
  // Connects the Redis level (the inner store is open already).
  if (served !== store) await served.open();
  const ingestor = createIngestor({ registry, store: served, deadLetters, logger });
  const ctx: ServeContext = {
    registry,
    store: served,
    deadLetters,
    logger,
    ingest: (events) => ingestor.ingest(events, { origin: 'http' }),
  };
  const limits = serveLimitsFromEnv(options.env ?? {}, options.limits);
  const metrics = new ServeMetrics({ defaultMetrics: false });
  const app = await createServer(ctx, {
    limits,
    metrics,
    auth: authConfigFromEnv(options.env ?? {}, options.auth),
    hotEntityTtlMs: options.hotEntityTtlMs ?? 0,
    ...(options.fastPath === undefined ? {} : { fastPath: options.fastPath }),
    ...(options.introspection === undefined ? {} : { introspection: options.introspection }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  options.routes?.(app);
  await app.listen({ port: 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const base = `http://127.0.0.1:${port}`;

  const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, headers: res.headers, body: parsed as AnyJson };
  };
  return {
    base,
    app,
    store,
    registry,
    metrics,
    async gql(query, variables, headers) {
      const res = await post('/graphql', { query, variables }, headers);
      return res as GraphQLAnswer;
    },
    post,
    async get(url, headers = {}) {
      const res = await fetch(base + url, { headers });
      return { status: res.status, headers: res.headers, text: await res.text() };
    },
    write: (writes) => served.write(writes),
    async close() {
      await app.close();
      await served.close();
      tmp.remove();
    },
  };
}

/** Writes as ingestion would: a single static value. */
export function single(
  prefix: string,
  id: string | number,
  feature: string,
  value: unknown,
  ts = Date.now(),
): StoreWrite {
  return {
    kind: 'static',
    pk: partitionKey({ prefix }, String(id), feature),
    container: 'single',
    mutation: { op: 'set', value },
    ts,
    ttlMs: undefined,
    maxCount: 100,
  };
}

export function row(
  prefix: string,
  id: string | number,
  feature: string,
  ts: number,
  values: Record<string, unknown>,
): StoreWrite {
  return {
    kind: 'action',
    pk: partitionKey({ prefix }, String(id), feature),
    row: { ts, eventId: `${feature}-${id}-${ts}`, values },
    maxCount: 100,
    ttlMs: undefined,
  };
}

class NoDeadLetters implements DeadLetterStore {
  async add(entries: readonly NewDeadLetter[]): Promise<DeadLetter[]> {
    return entries.map((e, i) => ({ ...e, id: String(i), at: e.at ?? Date.now() }));
  }
  async list(): Promise<DeadLetter[]> {
    return [];
  }
  async get(): Promise<DeadLetter | undefined> {
    return undefined;
  }
  async remove(): Promise<number> {
    return 0;
  }
  async count(): Promise<number> {
    return 0;
  }
}
