import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { GraphQLError as GraphQLErrorType } from 'graphql';
import { LarderError } from '../../errors.ts';
import { failHook } from '../error-reply.ts';
import type { GraphQLBody } from '../graphql-body.ts';
import { formatGraphQLErrors } from '../graphql-errors.ts';
import { GraphQLError } from '../graphql-runtime.ts';
import { QueryGuard, type QueryGuardLimits } from '../query-guard.ts';

export interface LimitsPluginOptions {
  readonly limits: QueryGuardLimits;
  /** Query texts remembered as checked. */
  readonly remembered: number;
}

/**
 * The query-text limits of `/graphql` (POST and GET), checked before the query is parsed for
 * execution, after a persisted query's text is known: size, tokens, nesting, fields and depth
 * through fragments (query-guard.ts). A `query` that is not a string is a bad request. The other
 * limits: body size is Fastify's `bodyLimit`, depth also a validation rule, ids and rows the
 * request-cost check before execution (plugins/graphql.ts and the fast path).
 */
export const limitsPlugin = fp<LimitsPluginOptions>(
  async (app, { limits, remembered }) => {
    const guard = new QueryGuard(limits, remembered);
    app.addHook('preHandler', (request, reply, done) => {
      if (request.routeOptions.url !== '/graphql') return done();
      const query =
        request.method === 'POST'
          ? (request.body as GraphQLBody | null)?.query
          : (request.query as { query?: unknown } | null)?.query;
      if (query === undefined) return done();
      try {
        if (typeof query !== 'string') {
          throw new LarderError('LARDER_ERR_BAD_REQUEST', `"query" must be a string, got ${kindOf(query)}`);
        }
        guard.check(query);
      } catch (err) {
        if (err instanceof GraphQLError) return sendSyntaxError(reply, err);
        return failHook(request, reply, done, err);
      }
      done();
    });
  },
  { name: 'larder-limits', dependencies: ['larder-persisted-queries'] },
);

/** graphql's own syntax error, in the shape Mercurius would give it. */
function sendSyntaxError(reply: FastifyReply, error: GraphQLErrorType): void {
  const { statusCode, response } = formatGraphQLErrors({ errors: [error] }, { reply: { log: reply.log } });
  void reply
    .code(statusCode)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify(response));
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
