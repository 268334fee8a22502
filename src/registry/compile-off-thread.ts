import { startTsWorker } from '../threads/ts-worker.ts';
import type { CompileOptions, CompileResult } from './compile-registry.ts';
import type { CompileReply, CompileRequest } from './compile-worker.ts';
import { deepFreeze } from './deep-freeze.ts';
import { IssueCollector } from './issue-collector.ts';
import type { SourceFile } from './source-files.ts';

export interface OffThreadOptions extends Pick<CompileOptions, 'env' | 'limits'> {
  /** A compile that takes longer is abandoned and the change refused. Default 30 s. */
  readonly timeoutMs?: number;
  /** Heap of the compiling thread, MB; a compile that needs more is refused. Default 512. */
  readonly maxHeapMb?: number;
}

/**
 * Compiles a registry on a thread of its own, so that parsing and validating a changed registry
 * never blocks the thread serving requests, however slow or large the files are. The thread is
 * started for the one compile, bounded in time and heap, and dropped. The compiled registry
 * crosses back as a structured clone (it is plain data and Maps) and is frozen again here.
 * Never rejects: a compile that throws, overruns or runs out of memory comes back as an issue.
 */
export function compileOffThread(
  dir: string,
  files: readonly SourceFile[],
  options: OffThreadOptions = {},
): Promise<CompileResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const worker = startTsWorker(new URL('./compile-worker.ts', import.meta.url), {
    resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 512 },
  });
  return new Promise<CompileResult>((resolve) => {
    let settled = false;
    const finish = (result: CompileResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish(failed(`compiling the registry took longer than ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    worker.once('message', (reply: CompileReply) => {
      if ('error' in reply) finish(failed(`compiling the registry failed: ${reply.error}`));
      else if ('registry' in reply.result) finish({ registry: deepFreeze(reply.result.registry) });
      else finish(reply.result);
    });
    worker.once('error', (err) => finish(failed(`compiling the registry failed: ${err.message}`)));
    worker.once('exit', (code) => finish(failed(`the compiling thread exited (code ${code})`)));
    const request: CompileRequest = {
      dir,
      files,
      env: { ...(options.env ?? process.env) },
      limits: options.limits,
    };
    worker.postMessage(request);
  });
}

function failed(message: string): CompileResult {
  const issues = new IssueCollector();
  issues.add('LARDER_ERR_SPEC_INVALID', message, { file: '.', line: 1, column: 1 });
  return { issues: issues.sorted(), warnings: [] };
}
