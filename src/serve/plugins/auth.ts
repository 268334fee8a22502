import fp from 'fastify-plugin';
import { LarderError } from '../../errors.ts';
import { KeyRing, presentedKey, RANK, routeAccess, warnIfOpen, type AuthConfig } from '../auth.ts';
import { sendLarderError } from '../error-reply.ts';

export interface AuthPluginOptions {
  readonly auth: AuthConfig;
}

/**
 * API-key authentication of every route (see ../auth.ts for keys and access levels): an `onRequest`
 * hook, before body parsing, so an unauthenticated client cannot make the server read a large
 * body. Does nothing when auth is off, except the warning when the server listens on an address
 * other machines can reach.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app, { auth }) => {
    app.addHook('onListen', (done) => {
      const address = app.server.address();
      const host = typeof address === 'object' && address !== null ? address.address : String(address);
      warnIfOpen(auth, host, app.log);
      done();
    });
    if (!auth.enabled) return;
    const ring = new KeyRing(auth);
    app.addHook('onRequest', (request, reply, done) => {
      const needed = routeAccess(request.method, request.url, request.routeOptions.config, auth);
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
          : new LarderError('LARDER_ERR_FORBIDDEN', `this endpoint needs an ${needed} key`);
      if (err.code === 'LARDER_ERR_UNAUTHORIZED') void reply.header('www-authenticate', 'Bearer');
      sendLarderError(request, reply, err);
    });
  },
  { name: 'larder-auth' },
);
