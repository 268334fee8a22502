import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { constants } from 'node:os';

/**
 * The young generation of a serving process. V8's default semi-space (16 MB) makes scavenges
 * frequent under load, and with the hot caches' large old generation each one costs more (the
 * remembered set to scan grows with it). `larder serve` therefore runs its serving processes with
 * `--max-semi-space-size=DEFAULT_SEMI_SPACE_MB` (config/serve-section.ts; BENCHMARKS.md, "Serving (issue 15)").
 *
 * V8 reads the flag only when the heap is set up: `v8.setFlagsFromString` at run time changes
 * nothing (measured). So cluster workers get it in their `execArgv`, and a single serving process
 * re-runs itself once with it (`respawnWithSemiSpace`). A `--max-semi-space-size` the user gave
 * (on the command line or in NODE_OPTIONS) wins; `serve.semiSpaceMb: 0` or
 * `LARDER_SERVE_SEMI_SPACE_MB=0` leaves V8's default.
 */
const FLAG = '--max-semi-space-size';

/**
 * The flag to add for `mb`, or undefined when none should be: `mb` is 0, or the user already set
 * the size (in `execArgv` or NODE_OPTIONS).
 */
export function semiSpaceFlag(
  mb: number,
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env['NODE_OPTIONS'],
): string | undefined {
  if (mb <= 0) return undefined;
  const given = (arg: string): boolean => arg === FLAG || arg.startsWith(`${FLAG}=`);
  if (execArgv.some(given)) return undefined;
  if ((nodeOptions ?? '').split(/\s+/).some(given)) return undefined;
  return `${FLAG}=${mb}`;
}

/** Cluster workers forked after this start with `flag` (the primary itself is not re-run). */
export function workersWithFlag(flag: string): void {
  cluster.setupPrimary({ execArgv: [...process.execArgv, flag] });
}

/**
 * Runs this same command again in a child process with `flag`, and resolves with the exit code to
 * leave with. Signals sent to this process are passed on; the child exits when this process dies
 * (its IPC channel closes), so it never outlives it.
 */
export function respawnWithSemiSpace(flag: string): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, flag, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    // Its own process group: a Ctrl-C reaches it once, passed on from here, not twice.
    detached: true,
    env: { ...process.env, [CHILD_ENV]: '1' },
  });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const signal of signals) process.on(signal, forward);
  return new Promise((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`larder serve: could not start the serving process: ${err.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}

const CHILD_ENV = 'LARDER_SERVE_RESPAWNED';

/**
 * In a process `respawnWithSemiSpace` started: exit when the parent is gone (its IPC channel
 * closed), without the channel keeping this process alive. A no-op elsewhere.
 */
export function exitWithParent(): void {
  if (process.env[CHILD_ENV] !== '1' || process.channel === undefined || cluster.isWorker) return;
  delete process.env[CHILD_ENV];
  process.channel.unref();
  process.once('disconnect', () => process.exit(1));
}
