import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { authConfigFromEnv, declaredAccess } from '../../src/serve/auth.ts';
import { single, startTestServer, type TestServer } from './support/test-server.ts';

const READ = 'read-key-0123456789abcdef';
const ADMIN = 'admin-key-0123456789abcdef';
const INGEST = 'ingest-key-0123456789abcdef';

describe('auth on', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { LARDER_API_KEYS: READ, LARDER_ADMIN_KEYS: ADMIN, LARDER_INGEST_KEYS: INGEST },
      // An admin-only route, as reload / replay / backfill routes declare themselves.
      routes: (app) =>
        app.post('/v1/admin/echo', { config: { access: 'admin' } }, async () => ({ ok: true })),
    });
    await server.write([single('u:', 1, 'os', 'ios')]);
  });
  afterAll(() => server.close());

  it('refuses GraphQL without a key or with a wrong one (401, GraphQL error shape, no internals)', async () => {
    const none = await server.gql('{ user(id: 1) { os } }');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.body).toEqual({
      data: null,
      errors: [
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'LARDER_ERR_UNAUTHORIZED' }) }),
      ],
    });
    const wrong = await server.gql('{ user(id: 1) { os } }', undefined, {
      authorization: 'Bearer nope-nope-nope-nope',
    });
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.body)).not.toMatch(/stack|at .*\.ts/);
  });

  it('serves reads with a read key, by bearer token or x-api-key', async () => {
    const bearer = await server.gql('{ user(id: 1) { os } }', undefined, { authorization: `Bearer ${READ}` });
    expect(bearer.body).toEqual({ data: { user: { os: 'ios' } } });
    const header = await server.post(
      '/v1/features',
      { entity: 'user', ids: [1], features: [{ name: 'os' }] },
      { 'x-api-key': READ },
    );
    expect(header.status).toBe(200);
  });

  it('keeps admin endpoints for admin keys', async () => {
    const asReader = await server.post('/v1/admin/echo', {}, { 'x-api-key': READ });
    expect(asReader.status).toBe(403);
    expect(asReader.body.code).toBe('LARDER_ERR_FORBIDDEN');
    const asAdmin = await server.post('/v1/admin/echo', {}, { 'x-api-key': ADMIN });
    expect(asAdmin.status).toBe(200);
    // Admin keys also read.
    const read = await server.gql('{ user(id: 1) { os } }', undefined, { 'x-api-key': ADMIN });
    expect(read.status).toBe(200);
  });

  it('needs an ingest (or admin) key to push events', async () => {
    const event = { name: 'app_open', user_id: 2, os: 'android', ts: Date.now(), event_id: 'e1' };
    const asReader = await server.post('/v1/streams/ev/t', event, { 'x-api-key': READ });
    expect(asReader.status).toBe(403);
    const asIngest = await server.post('/v1/streams/ev/t', event, { 'x-api-key': INGEST });
    expect(asIngest.status).toBe(200);
  });

  it('leaves health probes open and puts metrics behind a read key', async () => {
    expect((await server.get('/healthz')).status).toBe(200);
    expect((await server.get('/readyz')).status).toBe(200);
    expect((await server.get('/metrics')).status).toBe(401);
    expect((await server.get('/metrics', { authorization: `Bearer ${READ}` })).status).toBe(200);
  });
});

describe('auth off', () => {
  it('serves without keys, and warns loudly on a non-loopback address', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const server = await startTestServer({ host: '0.0.0.0', logger });
    try {
      const res = await server.gql('{ user(id: 1) { os } }');
      expect(res.status).toBe(200);
      expect(lines.some((l) => l.includes('AUTH IS OFF') && l.includes('"level":40'))).toBe(true);
    } finally {
      await server.close();
    }
    const quiet: string[] = [];
    const local = await startTestServer({
      logger: pino({ level: 'info' }, { write: (line: string) => void quiet.push(line) }),
    });
    await local.close();
    expect(quiet.some((l) => l.includes('AUTH IS OFF'))).toBe(false);
  });
});

describe('auth configuration', () => {
  it('turns on when keys are set, refuses short keys and auth without keys', () => {
    expect(authConfigFromEnv({}).enabled).toBe(false);
    expect(authConfigFromEnv({ LARDER_API_KEYS: `${READ}, ${ADMIN}` })).toMatchObject({
      enabled: true,
      readKeys: [READ, ADMIN],
    });
    expect(authConfigFromEnv({ LARDER_API_KEYS: READ, LARDER_AUTH: 'off' }).enabled).toBe(false);
    expect(() => authConfigFromEnv({ LARDER_AUTH: 'on' })).toThrow(/no API key/);
    expect(() => authConfigFromEnv({ LARDER_API_KEYS: 'short' })).toThrow(/at least 16/);
  });

  it('reads the access a route declares, and nothing else', () => {
    expect(declaredAccess({ access: 'public' })).toBe('public');
    expect(declaredAccess({ access: 'ingest' })).toBe('ingest');
    expect(declaredAccess({ access: 'root' })).toBeUndefined();
    expect(declaredAccess({ access: 'toString' })).toBeUndefined();
    expect(declaredAccess(undefined)).toBeUndefined();
  });
});
