import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Access } from '../auth.ts';

/** Where the console's committed build lives (`npm run console:build` writes it). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist/', import.meta.url));

export interface ConsolePluginOptions {
  /** The built console; default CONSOLE_DIST. */
  readonly dist?: string;
}

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly immutable: boolean;
  /** Compressed on first request (brotli at quality 11 takes a while), kept when smaller. */
  encoded?: { readonly gzip: Buffer | undefined; readonly br: Buffer | undefined };
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

// The console's pages are public files with no data in them; the data comes from /v1/admin/...,
// which the page calls with the key the user gives it. Scripts, styles and fonts come from this
// server only (no CDN), and the page may talk to this server only.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self'; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const PUBLIC: { readonly access: Access } = { access: 'public' };

/**
 * The web console at `/console/...`: the single-page app built by Vite from src/console/ and
 * shipped built, read into memory (and compressed) once at start. Every page URL answers the app's
 * index.html, which routes on the client, so a pasted link opens its page. `/console` goes to the
 * catalog, and `/jobs/<id>` (the job URLs alerts carry: `batch.consoleUrl` + `/jobs/<id>`) to the
 * job's page.
 */
export const consolePlugin = fp<ConsolePluginOptions>(
  async (app, options) => {
    const assets = loadAssets(options.dist ?? CONSOLE_DIST);
    const index = assets.get('index.html');

    app.get('/console', { config: PUBLIC }, async (_request, reply) => reply.redirect('/console/features'));
    app.get('/jobs/:id', { config: PUBLIC }, async (request, reply) => {
      const { id } = request.params as { id: string };
      return reply.redirect(`/console/jobs/${encodeURIComponent(id)}`);
    });
    app.get('/console/*', { config: PUBLIC }, async (request, reply) => {
      const rest = (request.params as { '*': string })['*'];
      const asset = assets.get(rest);
      if (asset !== undefined) return send(request, reply, asset);
      if (rest.startsWith('assets/') || path.extname(rest) !== '') {
        return reply.code(404).type('text/plain; charset=utf-8').send('not found');
      }
      if (index === undefined) {
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send('the console is not built: run `npm run console:build`');
      }
      return send(request, reply, index);
    });
  },
  { name: 'larder-console' },
);

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  const accepts = String(request.headers['accept-encoding'] ?? '');
  void reply
    .type(asset.type)
    .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('vary', 'accept-encoding');
  if (asset.type.startsWith('text/html')) void reply.header('content-security-policy', CSP);
  const { br, gzip } = (asset.encoded ??= encode(asset));
  if (br !== undefined && /\bbr\b/.test(accepts)) return reply.header('content-encoding', 'br').send(br);
  if (gzip !== undefined && /\bgzip\b/.test(accepts))
    return reply.header('content-encoding', 'gzip').send(gzip);
  return reply.send(asset.body);
}

function encode(asset: Asset): NonNullable<Asset['encoded']> {
  if (asset.body.length < 1024 || asset.type === 'image/png') return { gzip: undefined, br: undefined };
  const smaller = (b: Buffer): Buffer | undefined => (b.length < asset.body.length ? b : undefined);
  return { gzip: smaller(gzipSync(asset.body, { level: 9 })), br: smaller(brotliCompressSync(asset.body)) };
}

/** Every file of the build by its path under `dist`, compressed when that saves bytes. */
function loadAssets(dist: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dist)) return assets;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        walk(full);
        continue;
      }
      const rel = path.relative(dist, full).split(path.sep).join('/');
      const body = readFileSync(full);
      const type = TYPES[path.extname(name)] ?? 'application/octet-stream';
      assets.set(rel, { type, body, immutable: rel.startsWith('assets/') });
    }
  };
  walk(dist);
  return assets;
}
