import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { groupOf } from '../cache/cache-policy.ts';
import { entityIdOfKey } from '../keys/keys.ts';
import type { LayeredStore } from '../cache/layered-store.ts';
import { LarderError } from '../errors.ts';
import { authConfigFromEnv, type AuthConfig } from './auth.ts';
import { clientErrorHandler } from './client-error.ts';
import { onPeersWritten, tellPeersWritten, type WrittenKey } from './cluster.ts';
import type { ServeContext } from './context.ts';
import { notFoundHandler, restErrorHandler } from './error-response.ts';
import { fastAnswerer, fastPathPlugin } from './fast-path/fast-graphql.ts';
import { buildServingSchema } from './graphql-schema.ts';
import { DEFAULT_HOT_ENTITY_TTL_MS } from '../config/serve-section.ts';
import { HotEntityCache } from './hot-entities.ts';
import { HotRowCache } from './hot-rows.ts';
import { introspectionFromEnv, introspectionOffRule } from './introspection-rule.ts';
import { depthLimitRule, serveLimitsFromEnv, type ServeLimits } from './limits.ts';
import { ServeMetrics } from './metrics.ts';
import { OnDemandLoader } from './on-demand/on-demand-loader.ts';
import { OnDemandService } from './on-demand/on-demand-service.ts';
import { PersistedQueries } from './persisted-queries.ts';
import type { AdminSources } from './admin/admin-sources.ts';
import { adminApiPlugin } from './plugins/admin-api.ts';
import { authPlugin } from './plugins/auth.ts';
import { consolePlugin } from './plugins/console.ts';
import { graphqlPlugin, type NewRequestState } from './plugins/graphql.ts';
import { enrichInvocationsPlugin } from './plugins/enrich-invocations.ts';
import { healthPlugin } from './plugins/health.ts';
import { httpPushPlugin } from './plugins/http-push.ts';
import { limitsPlugin } from './plugins/limits.ts';
import { metricsPlugin } from './plugins/metrics.ts';
import { persistedQueriesPlugin } from './plugins/persisted-queries.ts';
import { requestStatePlugin } from './plugins/request-state.ts';
import { restFeaturesPlugin } from './plugins/rest-features.ts';
import { RequestLoader, failedReader, type FeatureReader } from './request-loader.ts';
import { SchemaSwapper } from './schema-swapper.ts';

export interface ServerOptions {
  /**
   * A pino logger instance, or Fastify logger options. Default: `ctx.logger`. Per-request
   * "incoming/completed" lines are off unless `requestLogging` is true: at tens of thousands of
   * requests a second they cost more than the request.
   */
  readonly logger?: boolean | object;
  /** Largest accepted request body, bytes. Default: Fastify's 1 MiB. */
  readonly bodyLimit?: number;
  /** Serve GraphiQL at `/graphiql`. Default false. */
  readonly graphiql?: boolean;
  /** Log every request. Default false. */
  readonly requestLogging?: boolean;
  /** API keys. Default: from the environment (`authConfigFromEnv`, see docs/serving.md). */
  readonly auth?: AuthConfig;
  /** Request limits. Default: from the environment (`serveLimitsFromEnv`). */
  readonly limits?: ServeLimits;
  /** Prometheus metrics. Default: a new registry with process metrics. */
  readonly metrics?: ServeMetrics;
  /**
   * What resolvers read from. Default `ctx.store`; pass the layered cache (in-process, Redis) in
   * front of the store to serve hot features from memory.
   */
  readonly reader?: FeatureReader;
  /** Parsed, validated and compiled queries kept, by query text. Default 1024. */
  readonly queryCacheSize?: number;
  /**
   * Lifetime of the in-process hot caches of entities and action rows, ms (see `hot-entities.ts`,
   * `hot-rows.ts`); 0 turns them off. Default: the `LARDER_HOT_ENTITY_TTL_MS` environment variable,
   * else `DEFAULT_HOT_ENTITY_TTL_MS` (30 s). They are on only when the server can see the writes
   * made through it (a layered store, `onWrite`): those invalidate at once; the TTL bounds how
   * long a write by another process goes unseen.
   */
  readonly hotEntityTtlMs?: number;
  /**
   * Answer covered queries from compiled queries instead of executing GraphQL per request (see
   * `fast-path/fast-graphql.ts`; the answers are the same). Default: on, unless the
   * `LARDER_SERVE_FAST_PATH` environment variable is `0`.
   */
  readonly fastPath?: boolean;
  /**
   * Answer schema introspection (`__schema`, `__type`). Default: on, unless the
   * `LARDER_GRAPHQL_INTROSPECTION` environment variable is off. With auth on, only callers with a
   * read key reach GraphQL at all, introspection included.
   */
  readonly introspection?: boolean;
  /**
   * The clock of the hot entity cache's TTL and the on-demand circuit breakers, ms. Default
   * `Date.now`; tests pass a manual one instead of waiting.
   */
  readonly now?: () => number;
  /**
   * What the admin API and the console show beyond the registry and the dead-letter table: stream
   * history, feature activity, batch jobs, replay, registry status (src/runtime/console/ builds
   * them for `larder serve` and `larder demo`). Default: none of those parts.
   */
  readonly admin?: AdminSources;
  /** Serve the web console at `/console`. Default true. The admin API is always there. */
  readonly console?: boolean;
}

/**
 * Builds the Larder HTTP server (not yet listening), as Fastify plugins registered in order:
 *
 * - auth (`onRequest`) and metrics (`onResponse`, `GET /metrics`) for every route;
 * - `POST /graphql` (and `GET`): the schema generated from the registry, JIT-compiled by Mercurius
 *   from a query's second execution on, with every store read of a request batched; persisted
 *   queries, the query-size limit and the compiled fast path run before it (`preHandler`);
 * - `POST /v1/queries` (persisted queries), `POST /v1/features` (REST);
 * - `POST /v1/streams/:stream/:topic`: HTTP push ingestion;
 * - `POST /v1/enrichers/:name/invocations`, `GET .../:id`: HTTP invocation of enrichers;
 * - `GET /healthz`, `GET /readyz`;
 * - the admin API under `/v1/admin/` and the web console at `/console` (docs/console.md).
 *
 * The schema follows `ctx.registry`: a change is generated and swapped in atomically, without a
 * restart. Throws a LarderError when the initial registry cannot be turned into a schema.
 */
export async function createServer(ctx: ServeContext, options: ServerOptions = {}): Promise<FastifyInstance> {
  // Generated before anything listens: a registry that cannot be served never starts a server.
  const initial = buildServingSchema(ctx.registry.current);
  const limits = options.limits ?? serveLimitsFromEnv();
  const auth = options.auth ?? authConfigFromEnv();
  const metrics = options.metrics ?? new ServeMetrics();
  const now = options.now ?? Date.now;
  const queryCacheSize = options.queryCacheSize ?? 1024;

  const app = Fastify({
    ...loggerOptions(options.logger, ctx.logger),
    bodyLimit: options.bodyLimit ?? limits.maxBodyBytes,
    logController: new LogController({ disableRequestLogging: options.requestLogging !== true }),
    // Request ids: the caller's `x-request-id` when it sends one, else a UUID (unique across
    // workers). Every log line of a request carries it as `reqId`; the response echoes it.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    clientErrorHandler,
  }) as unknown as FastifyInstance;

  app.setErrorHandler(restErrorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    // Unmatched: answered at once, the same to every caller (no auth, no body read).
    if (request.is404) return notFoundHandler(request, reply);
    done();
  });

  const store = ctx.store;
  const reader = options.reader ?? store;
  const onDemand = new OnDemandService(initial.onDemand, { observer: metrics.onDemandObserver(), now });
  app.addHook('onClose', async () => onDemand.close());
  // Only where this process's writes can invalidate them: otherwise a write would go unseen.
  const observable = writeObservable([reader, store]);
  const hotTtlMs = observable === undefined ? 0 : (options.hotEntityTtlMs ?? hotTtlFromEnv());
  const hot = new HotEntityCache({ ttlMs: hotTtlMs, now });
  const hotRows = new HotRowCache({ ttlMs: hotTtlMs, now });
  if (observable !== undefined && hotTtlMs > 0) {
    const stopForgetting = forgetWrittenEntities(hot, hotRows, observable, ctx.registry);
    app.addHook('onClose', async () => stopForgetting());
  }
  const newRequestState: NewRequestState = (request, operationName) => {
    // After the fast path's read failed, the full executor reports that failure without reading again.
    const failure = request.larder?.loader.readFailure;
    return {
      // One loader per request: it is what batches the request's reads.
      loader: new RequestLoader(failure === undefined ? reader : failedReader(failure.error), hot, hotRows),
      onDemand: new OnDemandLoader(onDemand),
      operationName,
    };
  };
  const introspection = options.introspection ?? introspectionFromEnv();
  const rules = [depthLimitRule(limits.maxDepth), ...(introspection ? [] : [introspectionOffRule])];

  await app.register(requestStatePlugin);
  await app.register(authPlugin, { auth });
  await app.register(metricsPlugin, {
    metrics,
    registry: ctx.registry,
    access: auth.publicMetrics ? 'public' : 'read',
  });
  await app.register(persistedQueriesPlugin, {
    persisted: new PersistedQueries({
      backing: store,
      maxStored: limits.maxPersistedQueries,
      maxStoredBytes: limits.maxPersistedQueryBytes,
    }),
    limits,
    schema: () => app.graphql.schema,
    rules,
  });
  await app.register(limitsPlugin, { limits, remembered: queryCacheSize });
  await app.register(graphqlPlugin, {
    schema: initial.schema,
    limits,
    rules,
    graphiql: options.graphiql ?? false,
    queryCacheSize,
    newRequestState,
  });
  const swapper = new SchemaSwapper(app, ctx.registry, initial, ctx.logger, (serving) =>
    onDemand.update(serving.onDemand),
  );
  app.addHook('onClose', async () => swapper.stop());
  const fastPathOn = options.fastPath ?? process.env['LARDER_SERVE_FAST_PATH'] !== '0';
  const fastAnswer = fastPathOn
    ? fastAnswerer({
        schema: () => swapper.serving.schema,
        limits,
        rules,
        maxQueries: queryCacheSize,
        onOutcome: (outcome) => metrics.recordFastPath(outcome),
      })
    : undefined;
  const newFastLoader = (): RequestLoader => new RequestLoader(reader, hot, hotRows);
  if (fastAnswer !== undefined)
    await app.register(fastPathPlugin, { answer: fastAnswer, newLoader: newFastLoader });
  await app.register(restFeaturesPlugin, {
    registry: ctx.registry,
    newRequestState,
    ...(fastAnswer === undefined ? {} : { fast: { answer: fastAnswer, newLoader: newFastLoader } }),
  });
  await app.register(httpPushPlugin, {
    ingest: (events) => ctx.ingest(events),
    registry: ctx.registry,
    maxEvents: limits.maxEventsPerPush,
  });
  if (ctx.enrichments !== undefined) {
    await app.register(enrichInvocationsPlugin, { enrichments: ctx.enrichments });
  }
  await app.register(healthPlugin, {
    registryVersion: () => swapper.serving.registryVersion,
    store,
    registryRefused: () => options.admin?.registry?.refusal?.() ?? null,
  });
  await app.register(adminApiPlugin, {
    registry: ctx.registry,
    schema: () => swapper.serving.schema,
    deadLetters: ctx.deadLetters,
    auth,
    sources: options.admin ?? {},
  });
  if (options.console !== false) await app.register(consolePlugin);
  return app;
}

const ALL_KEYS: readonly WrittenKey[] = [['all', '']];

/** The reader or store that tells about the writes made through it (the layered store), if any. */
function writeObservable(stores: readonly unknown[]): Pick<LayeredStore, 'onWrite'> | undefined {
  return stores.find(
    (s): s is Pick<LayeredStore, 'onWrite'> => typeof (s as Partial<LayeredStore>).onWrite === 'function',
  );
}

/**
 * Drops from the hot caches every entity and every row list a write through the layered store
 * changes, before the write's promise resolves; in a cluster, the other workers are told to drop
 * them too (through the primary). Returns the unsubscriber.
 */
function forgetWrittenEntities(
  hot: HotEntityCache,
  hotRows: HotRowCache,
  observable: Pick<LayeredStore, 'onWrite'>,
  registry: ServeContext['registry'],
): () => void {
  const forget = (keys: readonly WrittenKey[]): void => {
    const now = hot.now();
    const current = registry.current;
    for (const [kind, pk] of keys) {
      if (kind === 'all') {
        hot.forgetAll();
        hotRows.forgetAll();
        continue;
      }
      if (kind === 'action') {
        hotRows.forget(pk, now);
        continue;
      }
      const def = groupOf(current, pk);
      const entity = def === undefined ? undefined : current.entities.get(def.entity);
      if (def === undefined || entity === undefined) continue;
      hot.forget(entity.name, entityIdOfKey(entity, pk), now);
    }
  };
  const stopPeers = onPeersWritten(forget);
  const stopWrites = observable.onWrite((writes, remote) => {
    const keys = writes === 'all' ? ALL_KEYS : writes;
    forget(keys);
    // Every worker hears a remote write from Redis itself: only this worker's own are relayed.
    if (!remote) tellPeersWritten(keys);
  });
  return () => {
    stopWrites();
    stopPeers();
  };
}

function hotTtlFromEnv(): number {
  const raw = process.env['LARDER_HOT_ENTITY_TTL_MS'];
  if (raw === undefined || raw === '') return DEFAULT_HOT_ENTITY_TTL_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0) {
    throw new LarderError(
      'LARDER_ERR_CONFIG',
      `LARDER_HOT_ENTITY_TTL_MS must be a whole number of milliseconds, got "${raw}"`,
    );
  }
  return ms;
}

/** Fastify 5 takes a ready logger only as `loggerInstance`; `logger` is for options. */
function loggerOptions(
  given: ServerOptions['logger'],
  fallback: Logger,
): { loggerInstance: Logger } | { logger: boolean | object } {
  if (given === undefined) return { loggerInstance: fallback };
  if (isLoggerInstance(given)) return { loggerInstance: given };
  return { logger: given };
}

function isLoggerInstance(value: unknown): value is Logger {
  const candidate = value as Partial<Logger> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.child === 'function' &&
    typeof candidate.info === 'function'
  );
}
