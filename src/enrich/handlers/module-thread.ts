import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { plainResult } from '../plain-result.ts';

/**
 * The entry of one module-handler thread. It imports each handler module once (so what a module
 * keeps at its top level, a loaded model, lives as long as the thread) and runs any number of
 * calls at once: handlers are async, and a call waiting on I/O leaves the thread free.
 *
 * Messages in: `call`, `abort`, `load`; out: `result`, `error`, and `aborted` (the answer to `abort`,
 * which proves the thread's event loop is not stuck).
 */
export type ModuleThreadRequest =
  | {
      readonly type: 'call';
      readonly id: number;
      readonly module: string;
      readonly input: Record<string, unknown>;
      readonly ctx: {
        readonly enricher: string;
        readonly invocationId: string;
        readonly attempt: number;
        readonly timeoutMs: number;
      };
    }
  | { readonly type: 'abort'; readonly id: number }
  /** Import a module ahead of its first call (a failure shows at that call). */
  | { readonly type: 'load'; readonly module: string };

export type ModuleThreadReply =
  | { readonly type: 'result'; readonly id: number; readonly result: unknown }
  | { readonly type: 'error'; readonly id: number; readonly message: string }
  | { readonly type: 'aborted'; readonly id: number };

type HandlerFunction = (input: Record<string, unknown>, ctx: Record<string, unknown>) => unknown;

if (parentPort === null) throw new Error('module-thread.ts must run as a worker thread');
const port = parentPort;
const modules = new Map<string, Promise<HandlerFunction>>();
const running = new Map<number, AbortController>();

port.on('message', (message: ModuleThreadRequest) => {
  if (message.type === 'load') {
    load(message.module).catch(() => undefined);
    return;
  }
  if (message.type === 'abort') {
    running.get(message.id)?.abort(new Error('the call timed out'));
    port.postMessage({ type: 'aborted', id: message.id } satisfies ModuleThreadReply);
    return;
  }
  void run(message);
});

async function run(message: Extract<ModuleThreadRequest, { type: 'call' }>): Promise<void> {
  const controller = new AbortController();
  running.set(message.id, controller);
  try {
    const handler = await load(message.module);
    const result = await handler(message.input, { ...message.ctx, signal: controller.signal });
    // JSON is what the result becomes in the onSuccess event; fail here on what cannot be. Typed
    // arrays (a model's Float32Array embedding) become arrays of numbers, not objects of indexes.
    const json = result === undefined ? null : (JSON.parse(JSON.stringify(plainResult(result))) as unknown);
    port.postMessage({ type: 'result', id: message.id, result: json } satisfies ModuleThreadReply);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    port.postMessage({ type: 'error', id: message.id, message: text } satisfies ModuleThreadReply);
  } finally {
    running.delete(message.id);
  }
}

function load(module: string): Promise<HandlerFunction> {
  let loaded = modules.get(module);
  if (loaded === undefined) {
    loaded = import(pathToFileURL(module).href).then((m: { default?: unknown }) => {
      if (typeof m.default !== 'function') {
        throw new Error(`${module} has no default export function (input, ctx) => result`);
      }
      return m.default as HandlerFunction;
    });
    // A module that failed to load is tried again on the next call (it may have been fixed).
    loaded.catch(() => modules.delete(module));
    modules.set(module, loaded);
  }
  return loaded;
}
