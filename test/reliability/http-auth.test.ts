import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../serve/support/test-server.ts';
import { servingRegistryYaml } from '../serve/support/registry-yaml.ts';
import { freePort } from '../support/free-port.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';
import { AUTH_ENV, checkRouteTable, KEYS, runAuthMatrix } from './http-auth-matrix.ts';
import { rawRequest } from './http-raw-request.ts';

/**
 * The auth matrix (http-auth-matrix.ts): every route × every key role × every path spelling, with
 * auth on and off, in process and against a real `larder serve`.
 */
describe('auth matrix, in process', { timeout: 120_000 }, () => {
  let on: TestServer;
  let off: TestServer;
  beforeAll(async () => {
    on = await startTestServer({ env: AUTH_ENV });
    off = await startTestServer();
  });
  afterAll(async () => {
    await on?.close();
    await off?.close();
  });

  it('serves only routes that declare their access, as documented', () => {
    checkRouteTable(on.app.larderRoutes());
    checkRouteTable(off.app.larderRoutes());
  });

  it('decides access on the matched route under every path spelling (auth on)', async () => {
    const sent = await runAuthMatrix(on.base, on.app.larderRoutes(), true);
    expect(sent).toBeGreaterThan(1000);
  });

  it('answers every route without keys when auth is off, and 404 alike for unmatched paths', async () => {
    await runAuthMatrix(off.base, off.app.larderRoutes(), false);
  });

  it('does not write a pushed event for a read key under any spelling', async () => {
    const event = { name: 'app_open', user_id: 777, os: 'bypass', ts: Date.now(), event_id: 'bypass' };
    for (const p of ['/v1/%73treams/ev/t', '/%761/streams/ev/t', '/v1/streams/ev/t']) {
      const answer = await rawRequest(on.base, {
        method: 'POST',
        path: p,
        headers: { 'content-type': 'application/json', 'x-api-key': KEYS.read },
        body: JSON.stringify(event),
      });
      expect(answer.status, p).toBe(403);
    }
    const read = await on.gql('{ user(id: 777) { os } }', undefined, { 'x-api-key': KEYS.read });
    expect(read.body).toEqual({ data: { user: { os: null } } });
  });

  it('refuses to start a server with a route that declares no access', async () => {
    await expect(
      startTestServer({ routes: (app) => app.get('/v1/undeclared', async () => ({ ok: true })) }),
    ).rejects.toThrow(/without a declared access.*GET \/v1\/undeclared/);
  });
});

describe('auth matrix, larder serve', { timeout: 180_000 }, () => {
  const tmp = tempDir('larder-http-auth-');
  let server: LarderProcess;
  let base = '';
  let routes: ReturnType<TestServer['app']['larderRoutes']> = [];

  beforeAll(async () => {
    const registryDir = path.join(tmp.dir, 'registry');
    mkdirSync(registryDir);
    for (const [file, text] of Object.entries(servingRegistryYaml()))
      writeFileSync(path.join(registryDir, file), text);
    // The route table of the same server, in process (the child's own is not reachable).
    const twin = await startTestServer({ env: AUTH_ENV });
    routes = twin.app.larderRoutes();
    await twin.close();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = startLarder(
      [
        'serve',
        '--registry',
        registryDir,
        '--data',
        path.join(tmp.dir, 'data'),
        '--port',
        String(port),
        '--workers',
        '1',
        '--no-scheduler',
      ],
      AUTH_ENV,
    );
    await waitUntil(
      async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200,
      60_000,
      `larder serve ready\n${server.output()}`,
    );
  });
  afterAll(async () => {
    await server?.stop();
    tmp.remove();
  });

  it('decides access on the matched route under every path spelling', async () => {
    checkRouteTable(routes);
    const sent = await runAuthMatrix(base, routes, true);
    expect(sent).toBeGreaterThan(1000);
  });
});
