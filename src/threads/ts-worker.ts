import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * Starts a worker thread on a TypeScript entry module. The source runs through tsx, and on Node
 * 20 a worker's `--import tsx` does not apply to the worker's own entry module; so the thread
 * starts from a tiny evaluated bootstrap that registers tsx's loader and then imports the entry.
 */
export function startTsWorker(
  entry: URL,
  options: { readonly resourceLimits?: ResourceLimits } = {},
): Worker {
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsxApi = pathToFileURL(path.join(path.dirname(tsxPackage), 'dist/esm/api/index.mjs')).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, ...options });
}
