import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { LarderError } from '../../errors.ts';
import { backoffMs } from '../../ingest/backoff.ts';
import { errorText, type EnrichmentHandler, type HandlerCall } from './handler.ts';

export interface CommandHandlerOptions {
  readonly enricher: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly logger?: Logger;
}

interface Pending {
  readonly call: HandlerCall;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: LarderError) => void;
  readonly timer: NodeJS.Timeout;
  /** Lines the process had written when this call was sent. */
  readonly linesAtSend: number;
}

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pending: Map<string, Pending>;
  /** Lines read from stdout so far: a process that writes none while calls wait is stuck. */
  lines: number;
  exited: boolean;
}

/**
 * A long-lived process of any language as a handler, started once and kept alive. It reads one
 * JSON line per call on stdin, `{"id": "<id>", "input": {...}}`, and answers on stdout with
 * `{"id": "<id>", "result": ...}` or `{"id": "<id>", "error": "..."}`, in any order: ids let calls
 * overlap. Its stderr goes to the log.
 *
 * - A process that exits (or crashes) fails its calls in flight with `LARDER_ERR_ENRICH_CRASHED`,
 *   and the worker retries them; the next call starts a new process, after a backoff that grows
 *   while it keeps dying.
 * - A call that times out fails with `LARDER_ERR_ENRICH_TIMEOUT`. When the process wrote no line
 *   at all since that call was sent, it is taken for stuck and restarted.
 * - A line that is not JSON with a known id is logged and skipped.
 */
export function createCommandHandler(options: CommandHandlerOptions): EnrichmentHandler {
  const { enricher, logger } = options;
  const [command, ...args] = options.argv;
  if (command === undefined) throw new LarderError('LARDER_ERR_CONFIG', `${enricher}: the command is empty`);
  let running: Running | undefined;
  let crashes = 0;
  let notBefore = 0;
  let closed = false;

  function start(): Running {
    const child = spawn(command!, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const state: Running = { child, pending: new Map(), lines: 0, exited: false };
    createInterface({ input: child.stdout }).on('line', (line) => answer(state, line));
    createInterface({ input: child.stderr }).on('line', (line) =>
      logger?.info({ enricher, pid: child.pid }, line),
    );
    child.stdin.on('error', () => undefined); // a dead process: reported by 'exit'
    const gone = (why: string): void => {
      if (state.exited) return;
      state.exited = true;
      if (running === state) running = undefined;
      if (!closed) {
        crashes++;
        notBefore = Date.now() + backoffMs(crashes - 1, 100, 5_000);
        logger?.warn(
          { enricher, pid: child.pid, why, inFlight: state.pending.size },
          'enrich: command handler exited',
        );
      }
      for (const [id, pending] of state.pending) {
        state.pending.delete(id);
        clearTimeout(pending.timer);
        pending.reject(
          new LarderError('LARDER_ERR_ENRICH_CRASHED', `${enricher}: the handler process ${why}`),
        );
      }
    };
    child.once('exit', (code, signal) =>
      gone(signal === null ? `exited with code ${code}` : `was killed by ${signal}`),
    );
    child.once('error', (err) => gone(`could not run: ${err.message}`));
    return state;
  }

  function answer(state: Running, line: string): void {
    state.lines++;
    let message: { id?: unknown; result?: unknown; error?: unknown };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      logger?.warn(
        { enricher, line: line.slice(0, 200) },
        'enrich: command handler wrote a line that is not JSON',
      );
      return;
    }
    const id = typeof message.id === 'string' ? message.id : undefined;
    const pending = id === undefined ? undefined : state.pending.get(id);
    if (pending === undefined || id === undefined) return; // late answer of a call that timed out
    state.pending.delete(id);
    clearTimeout(pending.timer);
    crashes = 0;
    if (message.error !== undefined && message.error !== null) {
      pending.reject(new LarderError('LARDER_ERR_ENRICH_HANDLER', `${enricher}: ${String(message.error)}`));
    } else {
      pending.resolve(message.result ?? null);
    }
  }

  async function call(call: HandlerCall): Promise<unknown> {
    if (closed) throw new LarderError('LARDER_ERR_ENRICH_CRASHED', `${enricher}: the handler is closed`);
    const wait = notBefore - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    running ??= start();
    const state = running;
    const id = `${call.invocationId}:${call.attempt}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => timedOut(state, id), call.timeoutMs);
      state.pending.set(id, { call, resolve, reject, timer, linesAtSend: state.lines });
      try {
        state.child.stdin.write(`${JSON.stringify({ id, input: call.input })}\n`);
      } catch (err) {
        state.pending.delete(id);
        clearTimeout(timer);
        reject(new LarderError('LARDER_ERR_ENRICH_CRASHED', `${enricher}: ${errorText(err)}`));
      }
    });
  }

  function timedOut(state: Running, id: string): void {
    const pending = state.pending.get(id);
    if (pending === undefined) return;
    state.pending.delete(id);
    pending.reject(
      new LarderError(
        'LARDER_ERR_ENRICH_TIMEOUT',
        `${enricher}: the handler did not answer within ${pending.call.timeoutMs} ms`,
      ),
    );

    if (state.lines === pending.linesAtSend && !state.exited) {
      logger?.warn(
        { enricher, pid: state.child.pid },
        'enrich: command handler answers nothing; restarting it',
      );
      // New calls go to a new process at once; the calls still on this one fail when it exits.
      if (running === state) running = undefined;
      state.child.kill('SIGKILL');
    }
  }

  return {
    call,
    async close() {
      closed = true;
      const state = running;
      running = undefined;
      if (state === undefined || state.exited) return;
      const exited = new Promise((resolve) => state.child.once('exit', resolve));
      state.child.stdin.end();
      const timer = setTimeout(() => state.child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
