import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { startLarder } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/marketplace', import.meta.url));

/** Pids of live processes whose command line mentions `marker` (a test's own temp dir). Linux. */
function processesMentioning(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(marker)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Occupies a port on 127.0.0.1 until `close`. */
async function occupiedPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * `larder serve` that cannot start exits non-zero with the error, whatever `--workers` says: no
 * process is left behind, and nothing listens. Real processes through the real CLI.
 */
describe('a server that cannot start exits with the error', () => {
  const tmp = tempDir('larder-start-fail-');
  const registry = path.join(tmp.dir, 'registry');
  cpSync(EXAMPLE, registry, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  afterAll(() => tmp.remove());

  async function serve(
    name: string,
    args: readonly string[],
  ): Promise<{ code: number | null; output: string; ms: number; dataDir: string }> {
    const dataDir = path.join(tmp.dir, `data-${name}`);
    const started = performance.now();
    const larder = startLarder(['serve', '--registry', registry, '--data', dataDir, ...args]);
    const timeout = setTimeout(() => void larder.stop('SIGKILL'), 60_000);
    const code = await larder.exited;
    clearTimeout(timeout);
    return { code, output: larder.output(), ms: performance.now() - started, dataDir };
  }

  it.each([1, 2])(
    'port in use, --workers %i: exits 1 naming the port, no worker left',
    async (workers) => {
      const taken = await occupiedPort();
      try {
        const run = await serve(`port-${workers}`, [
          '--port',
          String(taken.port),
          '--workers',
          String(workers),
        ]);
        expect(run.code).toBe(1);
        expect(run.output).toMatch(new RegExp(`EADDRINUSE.*${taken.port}|${taken.port}.*in use`));
        expect(run.ms).toBeLessThan(45_000);
        expect(processesMentioning(run.dataDir)).toEqual([]);
      } finally {
        await taken.close();
      }
    },
    90_000,
  );

  it('a config error found by the workers (--workers 2): exits 1, the error printed once', async () => {
    const config = path.join(tmp.dir, 'overrides.yaml');
    writeFileSync(config, 'streams:\n  no_such_stream:\n    group: g\n');
    const run = await serve('config', [
      '--port',
      String(await freePort()),
      '--workers',
      '2',
      '--config',
      config,
    ]);
    expect(run.code).toBe(1);
    expect(run.output.match(/streams\.no_such_stream names no stream of the registry/g)).toHaveLength(1);
    expect(processesMentioning(run.dataDir)).toEqual([]);
  }, 90_000);

  it('a store that cannot open in the workers (--workers 2): exits 1 with its error', async () => {
    const config = path.join(tmp.dir, 'dynamo.yaml');
    // Nothing listens on this endpoint: every worker's store fails to open.
    writeFileSync(
      config,
      `store:\n  type: dynamodb\n  table: larder_t\n  endpoint: http://127.0.0.1:${await freePort()}\n  region: us-east-1\n`,
    );
    const run = await serve('store', [
      '--port',
      String(await freePort()),
      '--workers',
      '2',
      '--config',
      config,
    ]);
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/LARDER_ERR_STORE/);
    expect(run.output).toMatch(/could not start/);
    expect(processesMentioning(run.dataDir)).toEqual([]);
  }, 90_000);
});
