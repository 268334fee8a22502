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
      const params = request.method === 'GET' ? (request.query as GetParams | null) : null;
      const query = params === null ? (request.body as GraphQLBody | null)?.query : params.query;
      try {
        if (params !== null) {
          checkJsonObjectParam(params, 'variables');
          checkJsonObjectParam(params, 'extensions');
        }
        if (query === undefined) return done();
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

/** The query string of `GET /graphql`, as Fastify parsed it. */
interface GetParams {
  readonly query?: unknown;
  readonly variables?: unknown;
  readonly extensions?: unknown;
}

/**
 * `variables` and `extensions` of a GET are JSON texts; Mercurius parses them and fails with a 500
 * on anything but an object (`variables="x"`). Refuse those here.
 */
function checkJsonObjectParam(params: GetParams, name: 'variables' | 'extensions'): void {
  const raw = params[name];
  if (raw === undefined || raw === '') return;
  let value: unknown;
  try {
    value = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  } catch {
    throw new LarderError('LARDER_ERR_BAD_REQUEST', `"${name}" must be a JSON object`);
  }
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw new LarderError('LARDER_ERR_BAD_REQUEST', `"${name}" must be a JSON object, got ${kindOf(value)}`);
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
