import { parentPort } from 'node:worker_threads';
import { compileRegistry, type CompileResult } from './compile-registry.ts';
import type { SourceFile } from './source-files.ts';
import type { SpecLimits } from './spec-limits.ts';

/**
 * The entry of the thread that compiles a changed registry for `compileOffThread`: one request
 * in, one reply out, then the thread is dropped.
 */
export interface CompileRequest {
  readonly dir: string;
  readonly files: readonly SourceFile[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly limits: Partial<SpecLimits> | undefined;
}

export type CompileReply = { readonly result: CompileResult } | { readonly error: string };

if (parentPort === null) throw new Error('compile-worker.ts must run as a worker thread');
const port = parentPort;

port.once('message', (request: CompileRequest) => {
  let reply: CompileReply;
  try {
    reply = {
      result: compileRegistry(request.dir, request.files, { env: request.env, limits: request.limits }),
    };
  } catch (err) {
    reply = { error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
