import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { LarderError, isLarderError } from '../errors.ts';
import type { RegistryHolder } from '../registry/registry-holder.ts';
import { installAuth, warnIfOpen } from './auth.ts';
import type { AuthConfig } from './auth.ts';
import { clusterMetrics, shareMetricsWithPrimary } from './cluster.ts';
import { sendLarderError } from './error-reply.ts';
import { checkQuerySize } from './limits.ts';
import type { ServeLimits } from './limits.ts';
import type { ServeMetrics } from './metrics.ts';
import { queryHash } from './persisted-queries.ts';
import type { PersistedQueries } from './persisted-queries.ts';
import { checkRequestCost, costPlan } from './request-cost.ts';
import { registerRestFeatures } from './plugins/rest-features.ts';

/**
 * Serving "at production depth", installed on the server built by `createServer` before it
 * listens: API-key auth, request limits, persisted queries, `POST /v1/features`, `/metrics` and
 * per-request metrics, `x-request-id`.
 */
export interface ServingDepthOptions {
  readonly registry: RegistryHolder;
  readonly auth: AuthConfig;
  readonly limits: ServeLimits;
  readonly metrics: ServeMetrics;
  readonly persisted: PersistedQueries;
  /** The GraphQL context of a request, exactly as `/graphql` builds it (for the REST face). */
  readonly graphqlContext: (request: FastifyRequest, reply: FastifyReply) => object;
}

interface GraphQLBody {
  query?: unknown;
  operationName?: unknown;
  id?: unknown;
  extensions?: { persistedQuery?: { sha256Hash?: unknown } } | null;
}

/** The server keeps each request's GraphQL context on the request, for the served-values metrics. */
type ServedRequest = FastifyRequest & {
  larderContext?: {
    readonly loader?: {
      readonly rowsServed: number;
      readonly featuresServed: number;
      readonly hotHits: number;
      readonly hotMisses: number;
    };
    readonly operationName?: string;
  };
};

const START = Symbol('larder.start');
type Timed = FastifyRequest & { [START]?: number };

export function installServingDepth(app: FastifyInstance, options: ServingDepthOptions): void {
  const { auth, limits, metrics, persisted, registry } = options;

  app.addHook('onRequest', (request, reply, done) => {
    (request as Timed)[START] = performance.now();
    void reply.header('x-request-id', request.id);
    done();
  });
  installAuth(app, auth);
  app.addHook('onListen', (done) => {
    const address = app.server.address();
    const host = typeof address === 'object' && address !== null ? address.address : String(address);
    warnIfOpen(auth, host, app.log);
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const started = (request as Timed)[START];
    const route = request.routeOptions.url;
    if (started !== undefined && route !== '/metrics' && route !== '/healthz' && route !== '/readyz') {
      const operation =
        route === '/graphql'
          ? metrics.operationLabel(
              (request as ServedRequest).larderContext?.operationName ?? operationNameOf(request.body),
            )
          : route === '/v1/features'
            ? 'rest_features'
            : (route ?? 'unknown');
      metrics.observeRequest(operation, reply.statusCode, (performance.now() - started) / 1000);
      const loader = (request as ServedRequest).larderContext?.loader;
      if (loader !== undefined) {
        metrics.recordServed(loader.rowsServed, loader.featuresServed);
        if (loader.hotHits + loader.hotMisses > 0)
          metrics.recordCache('hot', loader.hotHits, loader.hotMisses);
      }
    }
    done();
  });

  // Persisted queries and the query-size limit, before Mercurius sees the body.
  // Synchronous unless the request names a persisted query: an async hook costs every request.
  app.addHook('preHandler', (request, reply, done) => {
    if (request.method !== 'POST' || request.routeOptions.url !== '/graphql') return done();
    const body = request.body as GraphQLBody | null;
    if (body === null || typeof body !== 'object') return done();
    const refuse = (err: unknown): void => {
      if (!isLarderError(err)) return done(err as Error);
      sendLarderError(request, reply, err);
    };
    const checkSize = (): void => {
      try {
        if (typeof body.query === 'string') checkQuerySize(body.query, limits);
      } catch (err) {
        return refuse(err);
      }
      done();
    };
    if (body.id === undefined && body.extensions?.persistedQuery === undefined) return checkSize();
    resolvePersisted(body, persisted).then(checkSize, refuse);
  });

  app.post('/v1/queries', async (request) => {
    const body = request.body as { query?: unknown } | null;
    if (body === null || typeof body !== 'object' || typeof body.query !== 'string' || body.query === '') {
      throw new LarderError('LARDER_ERR_BAD_REQUEST', 'send {"query": "<GraphQL query text>"}');
    }
    checkQuerySize(body.query, limits);
    return { id: await persisted.register(body.query) };
  });

  // Ids per batch field and rows per request, checked before anything is read; the plan is
  // compiled once per parsed document (Mercurius caches documents by query text). Depth is a
  // validation rule (`depthLimitRule`), so it runs once per query text.
  app.graphql.addHook(
    'preExecution',
    async (schema: GraphQLSchema, document: DocumentNode, context, variables) => {
      const reply = (context as { reply?: FastifyReply }).reply;
      const requested = operationNameOf(reply?.request.body);
      // The operation's own name labels the latency metrics, also when the body does not repeat it.
      (context as { operationName?: string }).operationName = requested ?? soleOperationName(document);
      const plan = costPlan(schema, document, requested);
      checkRequestCost(plan, variables as Record<string, unknown> | undefined, limits);
    },
  );

  registerRestFeatures(app, {
    registry: () => registry.current,
    schema: () => app.graphql.schema,
    execute: async (request, reply, query, variables) => {
      const context = options.graphqlContext(request, reply);
      (request as ServedRequest).larderContext = context as ServedRequest['larderContext'];
      // The query text is generated from a body already bounded in size and feature count.
      try {
        return (await app.graphql(query, context as Record<string, unknown>, variables, 'Rest')) as {
          data?: unknown;
          errors?: readonly unknown[];
        };
      } catch (err) {
        throw unwrapGraphQLFailure(err);
      }
    },
  });

  // In a `--workers N` cluster, the primary collects every worker's registry for `/metrics`.
  shareMetricsWithPrimary(metrics.registries);
  metrics.setRegistryVersion(registry.current.version);
  const unsubscribe = registry.onChange((next) => metrics.setRegistryVersion(next.version));
  app.addHook('onClose', async () => unsubscribe());

  app.get('/metrics', async (_request, reply) => {
    const aggregated = clusterMetrics();
    const body = aggregated === undefined ? (await metrics.render()).body : await aggregated;
    return reply.header('content-type', metrics.registry.contentType).send(body);
  });
}

function operationNameOf(body: unknown): string | undefined {
  const name = (body as GraphQLBody | null | undefined)?.operationName;
  return typeof name === 'string' ? name : undefined;
}

function soleOperationName(document: DocumentNode): string | undefined {
  let name: string | undefined;
  let count = 0;
  for (const def of document.definitions) {
    if (def.kind === 'OperationDefinition') {
      count++;
      name = def.name?.value;
    }
  }
  return count === 1 ? name : undefined;
}

/** Hash-only requests get their text; hash-and-text requests are checked and registered. */
async function resolvePersisted(body: GraphQLBody, persisted: PersistedQueries): Promise<void> {
  const apq = body.extensions?.persistedQuery?.sha256Hash;
  const hash = typeof apq === 'string' ? apq : typeof body.id === 'string' ? body.id : undefined;
  if (hash === undefined) return;
  const lower = hash.toLowerCase();
  if (typeof body.query === 'string') {
    if (queryHash(body.query) !== lower) {
      throw new LarderError(
        'LARDER_ERR_PERSISTED_QUERY_MISMATCH',
        'the sha256 hash does not match the query text',
        {
          details: { hash: hash.slice(0, 64) },
        },
      );
    }
    await persisted.register(body.query);
    return;
  }
  const query = await persisted.lookup(lower);
  if (query === undefined) {
    throw new LarderError(
      'LARDER_ERR_PERSISTED_QUERY_NOT_FOUND',
      `no persisted query has the hash ${hash.slice(0, 64)}`,
      {
        details: { hash: hash.slice(0, 64) },
      },
    );
  }
  body.query = query;
}

/** `app.graphql` throws request-level failures (validation, a hook's LarderError) wrapped. */
function unwrapGraphQLFailure(err: unknown): unknown {
  if (isLarderError(err)) return err;
  const inner = (err as { errors?: unknown[] } | null)?.errors?.[0] as
    { originalError?: unknown; message?: string } | undefined;
  if (isLarderError(inner?.originalError)) return inner.originalError;
  if (inner !== undefined)
    return new LarderError('LARDER_ERR_QUERY_INVALID', inner.message ?? 'invalid query');
  return err;
}
