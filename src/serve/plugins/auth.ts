import type { RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { LarderError } from '../../errors.ts';
import {
  declaredAccess,
  KeyRing,
  presentedKey,
  RANK,
  warnIfOpen,
  type Access,
  type AuthConfig,
} from '../auth.ts';
import { sendLarderError } from '../error-reply.ts';

export interface AuthPluginOptions {
  readonly auth: AuthConfig;
}

/** A route and the access it declares, as the server serves it. */
export interface RouteAccess {
  readonly method: string;
  readonly url: string;
  readonly access: Access;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route the server serves, with its declared access (for the auth matrix test, docs). */
    larderRoutes(): readonly RouteAccess[];
  }
}

/**
 * API-key authentication of every route (see ../auth.ts for keys and access levels): an `onRequest`
 * hook, before body parsing, so an unauthenticated client cannot make the server read a large
 * body.
 *
 * Access is what the matched route declares (`config: { access }`), never what the URL text
 * looks like: the router decodes `%73treams` to `streams`, a prefix test on the raw URL does
 * not. Every route must declare its access; a server with a route that does not refuses to start
 * (`onReady`), so a new route cannot be served with an access nobody chose. An unmatched URL is
 * the 404 handler's, answered the same to every caller (error-response.ts).
 *
 * When auth is off, only the warning is left: when the server listens on an address other
 * machines can reach.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app, { auth }) => {
    // Options objects as Fastify holds them: later onRoute hooks (the GraphQL plugin's) may still
    // set `config.access`, so they are read when the server is ready.
    const routes: RouteOptions[] = [];
    app.addHook('onRoute', (route) => {
      routes.push(route);
    });
    const table = (): RouteAccess[] =>
      routes.flatMap((route) =>
        (Array.isArray(route.method) ? route.method : [route.method]).map((method) => ({
          method: String(method),
          url: route.url,
          access: declaredAccess(route.config) ?? ('undeclared' as Access),
        })),
      );
    app.decorate('larderRoutes', () => table());
    app.addHook('onReady', async () => {
      const undeclared = table().filter((r) => !Object.hasOwn(RANK, r.access));
      if (undeclared.length > 0) {
        throw new LarderError(
          'LARDER_ERR_INTERNAL',
          `routes without a declared access (config: { access }): ${undeclared.map((r) => `${r.method} ${r.url}`).join(', ')}`,
        );
      }
    });
    app.addHook('onListen', (done) => {
      const address = app.server.address();
      const host = typeof address === 'object' && address !== null ? address.address : String(address);
      warnIfOpen(auth, host, app.log);
      done();
    });
    if (!auth.enabled) return;
    const ring = new KeyRing(auth);
    app.addHook('onRequest', (request, reply, done) => {
      // Unmatched: the 404 handler answers every caller alike, before any body is read.
      if (request.is404) return done();
      // Undeclared cannot be served (onReady), but fail closed all the same.
      const needed = declaredAccess(request.routeOptions.config) ?? 'admin';
      if (needed === 'public') return done();
      const key = presentedKey(request);
      const granted = ring.accessOf(key);
      if (RANK[granted] >= RANK[needed]) return done();
      const err =
        granted === 'public'
          ? new LarderError(
              'LARDER_ERR_UNAUTHORIZED',
              key === undefined ? 'this endpoint needs an API key' : 'the API key is not valid',
            )
          : new LarderError('LARDER_ERR_FORBIDDEN', `this endpoint needs an ${needed} key`, {
              details: { needed },
            });
      if (err.code === 'LARDER_ERR_UNAUTHORIZED') void reply.header('www-authenticate', 'Bearer');
      sendLarderError(request, reply, err);
    });
  },
  { name: 'larder-auth' },
);
