import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../stream/fixtures/ingest-process.ts', import.meta.url));

/**
 * A `larder ingest`-like child process over a registry and data dir (the crash tests' entry point),
 * with its exit code and output kept for assertions. `env` adds to its environment. `ready`
 * resolves once its consumers started.
 */
export function startIngestChild(registryDir: string, dataDir: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, registryDir, dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LARDER_LOG_LEVEL: 'warn', ...env },
  });
  let out = '';
  let code: number | null | undefined;
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (c, signal) => {
      code = c ?? (signal === 'SIGTERM' ? 0 : -1);
      resolve();
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      if (c.toString().includes('ready')) resolve();
    });
    void exited.then(() => reject(new Error(`ingest process exited before ready: ${out}`)));
  });
  return { process: child, ready, exited, exitCode: () => code, output: () => out };
}
