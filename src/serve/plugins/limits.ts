import fp from 'fastify-plugin';
import { failHook } from '../error-reply.ts';
import type { GraphQLBody } from '../graphql-body.ts';
import { checkQuerySize, type ServeLimits } from '../limits.ts';

export interface LimitsPluginOptions {
  readonly limits: Pick<ServeLimits, 'maxQueryBytes'>;
}

/**
 * The query-size limit of `POST /graphql`, checked before the query is parsed (after a persisted
 * query's text is known). The other limits: body size is Fastify's `bodyLimit`, depth a
 * validation rule, ids and rows the request-cost check before execution (plugins/graphql.ts and
 * the fast path).
 */
export const limitsPlugin = fp<LimitsPluginOptions>(
  async (app, { limits }) => {
    app.addHook('preHandler', (request, reply, done) => {
      if (request.method !== 'POST' || request.routeOptions.url !== '/graphql') return done();
      const query = (request.body as GraphQLBody | null)?.query;
      if (typeof query !== 'string') return done();
      try {
        checkQuerySize(query, limits);
      } catch (err) {
        return failHook(request, reply, done, err);
      }
      done();
    });
  },
  { name: 'larder-limits', dependencies: ['larder-persisted-queries'] },
);
