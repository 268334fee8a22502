import Fastify, { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';
import mercurius from 'mercurius';
import type { MercuriusOptions } from 'mercurius';
import type { Logger } from 'pino';
import { registerPushRoutes } from '../ingest/stream/http-push.ts';
import type { ServeContext } from './context.ts';
import { notFoundHandler, restErrorHandler } from './error-response.ts';
import type { GraphQLRequestContext } from './feature-resolvers.ts';
import { formatGraphQLErrors } from './graphql-errors.ts';
import { buildServingSchema } from './graphql-schema.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { RequestLoader } from './request-loader.ts';
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
}

/**
 * Builds the Larder HTTP server (not yet listening):
 *
 * - `POST /graphql` (and `GET`): the schema generated from the registry, JIT-compiled by Mercurius
 *   from a query's second execution on, with every store read of a request batched;
 * - `POST /v1/streams/:stream/:topic`: HTTP push ingestion;
 * - `GET /healthz`, `GET /readyz`.
 *
 * The schema follows `ctx.registry`: a change is generated and swapped in atomically, without a
 * restart. Throws a LarderError when the initial registry cannot be turned into a schema.
 */
export async function createServer(ctx: ServeContext, options: ServerOptions = {}): Promise<FastifyInstance> {
  // Generated before anything listens: a registry that cannot be served never starts a server.
  const initial = buildServingSchema(ctx.registry.current);

  const app = Fastify({
    ...loggerOptions(options.logger, ctx.logger),
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    logController: new LogController({ disableRequestLogging: options.requestLogging !== true }),
  }) as unknown as FastifyInstance;

  app.setErrorHandler(restErrorHandler);
  app.setNotFoundHandler(notFoundHandler);

  const store = ctx.store;
  await app.register(mercurius, {
    schema: initial.schema,
    path: '/graphql',
    jit: 1,
    graphiql: options.graphiql ?? false,
    // One loader per request: it is what batches the request's reads.
    context: (): GraphQLRequestContext => ({ loader: new RequestLoader(store) }),
    errorFormatter: formatGraphQLErrors as unknown as MercuriusOptions['errorFormatter'],
  });

  const swapper = new SchemaSwapper(app, ctx.registry, initial, ctx.logger);
  app.addHook('onClose', async () => swapper.stop());

  registerHealthRoutes(app, { registryVersion: () => swapper.serving.registryVersion, store });
  registerPushRoutes(app, ctx);
  return app;
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
