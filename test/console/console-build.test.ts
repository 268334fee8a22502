import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { consoleSourceHash } from '../../scripts/console-source-hash.ts';
import { CONSOLE_DIST } from '../../src/serve/plugins/console.ts';
import { feature, registry, binding, field } from '../support/registry-builder.ts';
import { startServeFixture, type ServeFixture } from '../serve/serve-fixture.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function builtFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    return statSync(path.join(dir, name)).isDirectory() ? builtFiles(path.join(dir, name), rel) : [rel];
  });
}

describe('the committed console build', () => {
  it('was built from the sources in the tree (else: npm run console:build, and commit src/console/dist)', () => {
    const info = JSON.parse(readFileSync(path.join(CONSOLE_DIST, 'build-info.json'), 'utf8')) as {
      sourceHash: string;
      files: { file: string; bytes: number }[];
    };
    expect(info.sourceHash, 'src/console/dist is stale: run `npm run console:build` and commit it').toBe(
      consoleSourceHash(ROOT),
    );
    // build-info lists exactly the files that are there, at their sizes.
    const listed = info.files.map((f) => f.file).sort();
    expect(listed).toEqual(
      builtFiles(CONSOLE_DIST)
        .filter((f) => f !== 'build-info.json')
        .sort(),
    );
    for (const f of info.files) expect(statSync(path.join(CONSOLE_DIST, f.file)).size).toBe(f.bytes);
  });

  it('loads nothing from elsewhere: no CDN, no web font, no absolute URL in any script, style or page', () => {
    for (const file of builtFiles(CONSOLE_DIST)) {
      const text = readFileSync(path.join(CONSOLE_DIST, file), 'utf8');
      // Absolute URLs in a src/href/url()/import, or a font file: none may appear.
      expect(text, file).not.toMatch(
        /(?:src|href)\s*=\s*["']?(?:https?:)?\/\/|url\(\s*["']?(?:https?:)?\/\//,
      );
      expect(text, file).not.toMatch(/import\s*\(?\s*["'](?:https?:)?\/\//);
      expect(text, file).not.toMatch(/@font-face|\.woff2?\b|fonts\.googleapis/);
    }
    const index = readFileSync(path.join(CONSOLE_DIST, 'index.html'), 'utf8');
    const scripts = [...index.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(scripts.filter((s) => s.startsWith('/console/assets/')).length).toBeGreaterThanOrEqual(2);
    for (const s of scripts.filter((x) => x.startsWith('/console/'))) {
      expect(statSync(path.join(CONSOLE_DIST, s.slice('/console/'.length))).isFile()).toBe(true);
    }
  });
});

describe('the console plugin', () => {
  let fixture: ServeFixture;
  let app: FastifyInstance;
  const users = registry({
    features: [feature('user', 'os', { events: [binding('ev', 't', { fields: [field('os', 'string')] })] })],
  });

  beforeAll(async () => {
    fixture = await startServeFixture(users, {}, pino({ level: 'silent' }));
    app = fixture.app;
  });
  afterAll(async () => fixture.close());

  it('answers every page URL with the app (deep links work), under a strict CSP', async () => {
    for (const url of ['/console/features', '/console/jobs/0abc-12', '/console/features/user/os?q=x']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('<div id="app">');
      expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
      expect(res.headers['content-security-policy']).toMatch(/connect-src 'self'/);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves the hashed assets compressed and cacheable forever; a missing asset is a 404', async () => {
    const index = (await app.inject({ url: '/console/features' })).body;
    const script = /src="\/console\/(assets\/[^"]+\.js)"/.exec(index)?.[1];
    expect(script).toBeDefined();
    const plain = await app.inject({ url: `/console/${script}` });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toMatch(/^text\/javascript/);
    expect(plain.headers['cache-control']).toMatch(/immutable/);
    const gz = await app.inject({ url: `/console/${script}`, headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2);
    const br = await app.inject({ url: `/console/${script}`, headers: { 'accept-encoding': 'gzip, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect((await app.inject({ url: '/console/assets/nope.js' })).statusCode).toBe(404);
  });

  it('sends /console to the catalog and a job URL (/jobs/<id>, as alerts carry it) to its page', async () => {
    const root = await app.inject({ url: '/console' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/console/features');
    const job = await app.inject({ url: '/jobs/0m4x-ab12' });
    expect(job.statusCode).toBe(302);
    expect(job.headers.location).toBe('/console/jobs/0m4x-ab12');
  });

  it('is off with console: false, while the admin API stays', async () => {
    const off = await startServeFixture(users, { console: false }, pino({ level: 'silent' }));
    try {
      expect((await off.app.inject({ url: '/console/features' })).statusCode).toBe(404);
      expect((await off.app.inject({ url: '/v1/admin/info' })).statusCode).toBe(200);
    } finally {
      await off.close();
    }
  });
});
