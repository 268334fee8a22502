import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEMI_SPACE_MB } from '../../src/config/serve-section.ts';
import { semiSpaceFlag } from '../../src/serve/young-generation.ts';
import { freePort } from '../support/free-port.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/marketplace', import.meta.url));
const MB = 2 ** 20;

/** A running `larder serve --workers 1` and what its `/metrics` says about V8's heap. */
interface Served {
  readonly server: LarderProcess;
  readonly port: number;
}

async function heapLimit(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const match = /^larder_nodejs_heap_size_limit_bytes (\d+)/m.exec(text);
  if (match === null) throw new Error('no larder_nodejs_heap_size_limit_bytes on /metrics');
  return Number(match[1]);
}

/** The pids of a process's direct children (Linux). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

describe('larder serve: the young generation of the serving process', () => {
  const tmp = tempDir('larder-young-');
  let registry = '';
  const started: LarderProcess[] = [];

  const serve = async (name: string, env: NodeJS.ProcessEnv = {}, workers = 1): Promise<Served> => {
    const port = await freePort();
    const server = startLarder(
      [
        'serve',
        '--registry',
        registry,
        '--data',
        path.join(tmp.dir, name),
        '--port',
        String(port),
        '--workers',
        String(workers),
      ],
      env,
    );
    started.push(server);
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true,
      30_000,
      `larder serve (${name}) answers /healthz; output: ${server.output()}`,
    );
    return { server, port };
  };

  beforeAll(() => {
    registry = path.join(tmp.dir, 'registry');
    cpSync(EXAMPLE, registry, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  });
  afterAll(async () => {
    for (const server of started) await server.stop('SIGKILL');
    tmp.remove();
  });

  it("serves with the default semi-space, 0 leaves V8's own, and NODE_OPTIONS wins", async () => {
    const [byDefault, v8Default, userGiven] = await Promise.all([
      serve('default'),
      serve('off', { LARDER_SERVE_SEMI_SPACE_MB: '0' }),
      serve('user', { NODE_OPTIONS: '--max-semi-space-size=32' }),
    ]);
    const base = await heapLimit(v8Default.port);
    // V8's limit counts the young generation at its largest: three semi-spaces (two plus the
    // new large-object space), so each MB of semi-space adds 3 MB; 16 MB is V8's default.
    expect((await heapLimit(byDefault.port)) - base).toBe(3 * (DEFAULT_SEMI_SPACE_MB - 16) * MB);
    expect((await heapLimit(userGiven.port)) - base).toBe(3 * (32 - 16) * MB);
  }, 90_000);

  it('passes SIGTERM on and exits 0; the serving process never outlives a killed parent', async () => {
    const first = await serve('signals');
    expect(await first.server.stop('SIGTERM')).toBe(0);

    const second = await serve('kill');
    const parent = second.server.child.pid!;
    const [child] = childrenOf(parent);
    expect(child).toBeDefined();
    expect(readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0')).toContain(
      `--max-semi-space-size=${DEFAULT_SEMI_SPACE_MB}`,
    );
    await second.server.stop('SIGKILL');
    // Gone, or a zombie waiting for init to reap it: either way no longer running.
    const gone = (): boolean => {
      try {
        return readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]?.[0] === 'Z';
      } catch {
        return true;
      }
    };
    await waitUntil(gone, 10_000, 'the serving process exits after its parent');
  }, 90_000);

  it('starts cluster workers with the flag, and runs the primary as started', async () => {
    const { server } = await serve('workers', {}, 2);
    const primary = server.child.pid!;
    const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const flag = `--max-semi-space-size=${DEFAULT_SEMI_SPACE_MB}`;
    expect(cmdline(primary)).not.toContain(flag);
    const workers = (): number[] =>
      childrenOf(primary).filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes('LARDER_WORKER=1');
        } catch {
          return false;
        }
      });
    await waitUntil(() => workers().length === 2, 30_000, 'two workers');
    for (const pid of workers()) expect(cmdline(pid)).toContain(flag);
  }, 90_000);
});

describe('semiSpaceFlag', () => {
  it('adds the flag unless the size is 0 or the user already gave one', () => {
    expect(semiSpaceFlag(64, [], undefined)).toBe('--max-semi-space-size=64');
    expect(semiSpaceFlag(0, [], undefined)).toBeUndefined();
    expect(semiSpaceFlag(64, ['--max-semi-space-size=8'], undefined)).toBeUndefined();
    expect(semiSpaceFlag(64, [], '--enable-source-maps --max-semi-space-size=8')).toBeUndefined();
    expect(semiSpaceFlag(64, ['--max-old-space-size=512'], '--enable-source-maps')).toBe(
      '--max-semi-space-size=64',
    );
  });
});
