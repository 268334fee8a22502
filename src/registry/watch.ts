import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { compileOffThread, type OffThreadOptions } from './compile-off-thread.ts';
import { compileRegistry } from './compile-registry.ts';
import { isLarderError } from '../errors.ts';
import { IssueCollector } from './issue-collector.ts';
import { planRegistryChange, type RegistryChange } from './plan.ts';
import type { RegistryHolder } from './registry-holder.ts';
import { listRegistryFiles, readRegistryFiles, registryVersion } from './source-files.ts';
import { SpecValidationError } from './spec-error.ts';
import { specLimits } from './spec-limits.ts';
import type { Registry, SpecIssue } from './types.ts';

export interface WatchRegistryOptions {
  /** Called after a new registry has been put in force. */
  readonly onApplied?: (next: Registry, changes: readonly RegistryChange[]) => void;
  /** Called when a change was refused; the registry in force stays. Called once per distinct content. */
  readonly onRejected?: (issues: readonly SpecIssue[]) => void;
  /** Quiet time after the last change before reloading, so a multi-file save loads once. Default 150. */
  readonly debounceMs?: number;
  /** Interval of the fallback poll over file mtimes and sizes. Default 500. */
  readonly pollMs?: number;
  /** `env` and `limits` of the compile; `timeoutMs` and `maxHeapMb` bound the compiling thread. */
  readonly compile?: OffThreadOptions;
  /** Compile on the calling thread instead of a thread of its own (default false). */
  readonly onThisThread?: boolean;
}

export interface RegistryWatcher {
  close(): void;
}

/** The issues of a gate's refusal: its own, or one issue with its code and message. */
function refusal(err: unknown): readonly SpecIssue[] {
  if (err instanceof SpecValidationError) return err.issues;
  const issues = new IssueCollector();
  const code = isLarderError(err) ? err.code : 'LARDER_ERR_SPEC_INVALID';
  const message = err instanceof Error ? err.message : String(err);
  issues.add(code, message, { file: '.', line: 1, column: 1 });
  return issues.sorted();
}

/** mtimes and sizes of the registry files: a cheap change detector for the poll. */
async function fingerprint(dir: string): Promise<string> {
  try {
    const paths = await listRegistryFiles(dir);
    const stats = await Promise.all(
      paths.map(async (path) => {
        const s = await stat(join(dir, path)).catch(() => undefined);
        return `${path}:${s?.mtimeMs ?? 0}:${s?.size ?? -1}`;
      }),
    );
    return stats.join('|');
  } catch {
    return 'unreadable';
  }
}

/**
 * Watches `dir` and reloads the registry when its files change. Each changed registry is compiled
 * on a thread of its own (`compileOffThread`), bounded in time and memory. A reload applies atomically
 * through `holder.replace()`, and only when the whole new registry is valid, passes the holder's
 * gates and differs from the one in force; otherwise the old registry stays and `onRejected` gets
 * the issues. Change detection is `fs.watch` (recursive) plus a light poll of mtimes, because
 * `fs.watch` misses events on some file systems (network mounts, some containers). Nothing thrown inside the watcher escapes it.
 */
export function watchRegistry(
  dir: string,
  holder: RegistryHolder,
  options: WatchRegistryOptions = {},
): RegistryWatcher {
  const debounceMs = options.debounceMs ?? 150;
  const pollMs = options.pollMs ?? 500;
  let closed = false;
  let debounce: NodeJS.Timeout | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let lastPrint: string | undefined;
  let lastRejected: string | undefined;

  const safely = (fn: () => void): void => {
    try {
      fn();
    } catch {
      // A listener's failure must not stop the watcher.
    }
  };

  const reject = (issues: readonly SpecIssue[]): void => safely(() => options.onRejected?.(issues));

  const reload = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        let files;
        try {
          files = await readRegistryFiles(dir, specLimits(options.compile?.limits));
        } catch (err) {
          const issues = new IssueCollector();
          issues.add(
            'LARDER_ERR_SPEC_READ',
            `cannot read the registry in ${dir}: ${(err as Error).message}`,
            {
              file: '.',
              line: 1,
              column: 1,
            },
          );
          reject(issues.sorted());
          continue;
        }
        const version = registryVersion(files);
        if (closed) return;
        if (version === holder.current.version) {
          lastRejected = undefined;
          continue;
        }
        if (version === lastRejected) continue;
        // Off the serving thread: a slow or hostile registry never blocks requests meanwhile.
        const result = options.onThisThread
          ? compileRegistry(dir, files, options.compile)
          : await compileOffThread(dir, files, options.compile);
        if (closed) return;
        if ('issues' in result) {
          lastRejected = version;
          reject(result.issues);
          continue;
        }
        const previous = holder.current;
        try {
          holder.replace(result.registry);
        } catch (err) {
          // A gate (the serving schema, say) refused it, and nothing switched; or it switched and a
          // listener failed after, which changes nothing here.
          if (holder.current !== result.registry) {
            lastRejected = version;
            reject(refusal(err));
            continue;
          }
        }
        lastRejected = undefined;
        safely(() => options.onApplied?.(result.registry, planRegistryChange(previous, result.registry)));
      } while (again && !closed);
    } catch (err) {
      const issues = new IssueCollector();
      issues.add('LARDER_ERR_SPEC_INVALID', `registry reload failed: ${(err as Error).message}`, {
        file: '.',
        line: 1,
        column: 1,
      });
      reject(issues.sorted());
    } finally {
      running = false;
    }
  };

  const schedule = (): void => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => void reload(), debounceMs);
    debounce.unref();
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { recursive: true, persistent: false }, () => schedule());
    watcher.on('error', () => {
      // The directory may be gone or unwatchable; the poll keeps looking.
      watcher?.close();
      watcher = undefined;
    });
  } catch {
    watcher = undefined;
  }

  const poll = async (): Promise<void> => {
    const print = await fingerprint(dir);
    if (closed) return;
    if (lastPrint !== undefined && print !== lastPrint) schedule();
    lastPrint = print;
    pollTimer = setTimeout(() => void poll(), pollMs);
    pollTimer.unref();
  };
  void poll();

  return {
    close(): void {
      closed = true;
      clearTimeout(debounce);
      clearTimeout(pollTimer);
      watcher?.close();
    },
  };
}
