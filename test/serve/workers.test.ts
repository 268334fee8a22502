import { cpSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { waitUntil } from '../support/wait-until.ts';
import { tempDir } from '../support/temp-dir.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/marketplace', import.meta.url));

/** One request on a fresh connection, so the cluster may hand it to any worker. */
function healthz(port: number): Promise<{ status: string; worker?: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body) as { status: string; worker?: number }));
      })
      .on('error', reject);
  });
}

/** The primary's children that are cluster workers (they carry LARDER_WORKER=1; tsx adds others). Linux. */
function workerPids(primary: number): number[] {
  const children = readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes('LARDER_WORKER=1');
    } catch {
      return false; // exited meanwhile
    }
  });
}

/** `larder serve --workers 2`: two processes behind one port, supervised, with cluster-wide metrics. */
describe('larder serve --workers', () => {
  const tmp = tempDir('larder-workers-');
  let server: LarderProcess;
  let port = 0;

  beforeAll(async () => {
    const registry = path.join(tmp.dir, 'registry');
    cpSync(EXAMPLE, registry, { recursive: true, filter: (src) => !src.endsWith('.ts') });
    port = await freePort();
    server = startLarder([
      'serve',
      '--registry',
      registry,
      '--data',
      path.join(tmp.dir, 'data'),
      '--port',
      String(port),
      '--workers',
      '2',
    ]);
    await waitUntil(async () => (await healthz(port)).status === 'ok', 30_000, 'healthz');
  });
  afterAll(async () => {
    await server?.stop();
    tmp.remove();
  });

  it('spreads connections over two worker processes sharing one port', async () => {
    // The second worker may still be starting: keep opening connections (bounded) until both answer.
    const seen = new Set<number>();
    await waitUntil(
      async () => {
        for (let i = 0; i < 10 && seen.size < 2; i++) {
          const answer = await healthz(port);
          if (answer.worker !== undefined) seen.add(answer.worker);
        }
        return seen.size === 2;
      },
      30_000,
      'both workers to answer',
    );
    expect(seen.size).toBe(2);
  });

  it('serves GraphQL from every worker, and /metrics counts requests of all workers', async () => {
    const n = 20;
    for (let i = 0; i < n; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ query: 'query Probe { user(id: 1) { os } }' }),
      });
      expect(res.status).toBe(200);
    }
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const count = /larder_request_duration_seconds_count\{operation="Probe",status="200"\} (\d+)/.exec(text);
    expect(Number(count?.[1])).toBe(n);
  });

  it('replaces a worker that dies', async () => {
    const before = new Set<number>();
    for (let i = 0; i < 20 && before.size < 2; i++) before.add((await healthz(port)).worker ?? 0);
    const children = workerPids(server.child.pid!);
    expect(children.length).toBe(2);
    process.kill(children[0]!, 'SIGKILL');
    await waitUntil(
      () => {
        const now = workerPids(server.child.pid!);
        return now.length === 2 && !now.includes(children[0]!);
      },
      20_000,
      'a replacement worker',
    );
    await waitUntil(
      async () => {
        const ids = new Set<number>();
        for (let i = 0; i < 20 && ids.size < 2; i++) ids.add((await healthz(port)).worker ?? 0);
        return ids.size === 2 && [...ids].some((id) => !before.has(id));
      },
      30_000,
      'the new worker to serve',
    );
  });
});
