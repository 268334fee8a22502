import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { DocumentNode, GraphQLSchema, ValidationRule } from 'graphql';
import mercurius, { type MercuriusOptions } from 'mercurius';
import { operationNameOf } from '../graphql-body.ts';
import { formatGraphQLErrors } from '../graphql-errors.ts';
import type { ServeLimits } from '../limits.ts';
import { checkRequestCost, requestCost } from '../request-cost.ts';
import type { LarderRequestState } from './request-state.ts';

/** A request's state, which is also its GraphQL context: a new loader for its reads. */
export type NewRequestState = (
  request: FastifyRequest,
  operationName: string | undefined,
) => LarderRequestState;

export interface GraphQLPluginOptions {
  /** The schema generated from the registry at start (`SchemaSwapper` replaces it on changes). */
  readonly schema: GraphQLSchema;
  readonly limits: Pick<ServeLimits, 'maxIdsPerQuery' | 'maxRowsPerRequest'>;
  /** Validation rules beyond GraphQL's own (the depth limit); the fast path applies the same. */
  readonly rules: readonly ValidationRule[];
  /** Serve GraphiQL at `/graphiql`. */
  readonly graphiql: boolean;
  /** Parsed, validated and compiled queries kept, by query text. */
  readonly queryCacheSize: number;
  readonly newRequestState: NewRequestState;
}

/**
 * `POST /graphql` (and `GET`): Mercurius with the generated schema, JIT-compiled from a query's
 * second execution on. Before a query executes, its ids per batch field and rows per request are
 * checked against the limits (the cost is compiled once per parsed document: Mercurius caches
 * documents by query text), and its operation is named for the metrics.
 */
export const graphqlPlugin = fp<GraphQLPluginOptions>(
  async (app, options) => {
    // Mercurius gives /graphql a response schema whose `data` is "any object", and
    // fast-json-stringify serialises such values with a generic walker several times slower than
    // JSON.stringify (a fifth of a profile request's time). The reply is {data, errors?,
    // extensions?}, which JSON.stringify writes the same.
    app.addHook('onRoute', (route) => {
      if (route.url === '/graphql') route.serializerCompiler = () => serializeGraphQLReply;
      // Mercurius' routes (`/graphql`, and `/graphiql` with its assets) read features.
      if (route.url === '/graphql' || route.url.startsWith('/graphiql'))
        route.config = { ...route.config, access: 'read' };
    });
    await app.register(mercurius, {
      schema: options.schema,
      path: '/graphql',
      jit: 1,
      graphiql: options.graphiql,
      cache: options.queryCacheSize,
      validationRules: [...options.rules],
      context: (request) => {
        const state = options.newRequestState(request, operationNameOf(request.body));
        request.larder = state;
        return state;
      },
      errorFormatter: formatGraphQLErrors as unknown as MercuriusOptions['errorFormatter'],
    });

    const { limits } = options;
    app.graphql.addHook<LarderRequestState>('preExecution', async (schema, document, state, variables) => {
      // The operation's own name labels the latency metrics, also when the body does not repeat it.
      const requested = state.operationName;
      state.operationName = requested ?? soleOperationName(document);
      checkRequestCost(requestCost(schema, document, requested), variables, limits);
    });
  },
  { name: 'larder-graphql', dependencies: ['larder-request-state'] },
);

function serializeGraphQLReply(reply: unknown): string {
  return JSON.stringify(reply);
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
