import fp from 'fastify-plugin';
import type { GraphQLRequestContext } from '../feature-resolvers.ts';

/**
 * What a serving request carries from the code that answers it to the hooks that observe it: its
 * loader (which counts the rows, features and hot-cache lookups served, for the metrics) and its
 * GraphQL operation's name. The full executor uses it as its GraphQL context; the fast path sets
 * its own.
 */
export interface LarderRequestState extends GraphQLRequestContext {
  /** The GraphQL operation's own name, for the latency metric's label. */
  operationName: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the fast path, `/graphql` or `/v1/features`; null on every other request. */
    larder: LarderRequestState | null;
  }
}

/** Declares `request.larder` (null until a serving route sets it: no object per request). */
export const requestStatePlugin = fp(
  async (app) => {
    app.decorateRequest('larder', null);
  },
  { name: 'larder-request-state' },
);
