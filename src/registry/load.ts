import { stat } from 'node:fs/promises';
import { IssueCollector } from './issue-collector.ts';
import { compileRegistry, type CompileOptions, type CompileResult } from './compile-registry.ts';
import { readRegistryFiles } from './source-files.ts';
import { SpecValidationError } from './spec-error.ts';
import { specLimits } from './spec-limits.ts';
import type { Registry } from './types.ts';

export { SpecValidationError, formatSpecIssues } from './spec-error.ts';
export type { CompileOptions, CompileResult } from './compile-registry.ts';

export type LoadOptions = CompileOptions;

/**
 * Reads every `*.yaml` / `*.yml` under `dir` (recursively, sorted by path), validates the whole
 * registry and returns the compiled, frozen {@link Registry}. Never throws: problems, including a
 * directory that cannot be read, come back as `issues`, every one of them with its place.
 */
export async function validateRegistry(dir: string, options: LoadOptions = {}): Promise<CompileResult> {
  const issues = new IssueCollector();
  const where = { file: '.', line: 1, column: 1 };
  const isDirectory = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDirectory) {
    issues.add(
      'LARDER_ERR_SPEC_EMPTY',
      `the registry directory ${dir} does not exist or is not a directory`,
      where,
    );
    return { issues: issues.sorted(), warnings: [] };
  }
  try {
    return compileRegistry(dir, await readRegistryFiles(dir, specLimits(options.limits)), options);
  } catch (err) {
    // Files can vanish or lose permissions between listing and reading (an editor saving, a git pull).
    issues.add(
      'LARDER_ERR_SPEC_READ',
      `cannot read the registry in ${dir}: ${(err as Error).message}`,
      where,
    );
    return { issues: issues.sorted(), warnings: [] };
  }
}

/**
 * Loads the registry in `dir`. Throws {@link SpecValidationError} (code `LARDER_ERR_SPEC_INVALID`)
 * listing every problem found, each with file, line and column, when anything is wrong.
 */
export async function loadRegistry(dir: string, options: LoadOptions = {}): Promise<Registry> {
  const result = await validateRegistry(dir, options);
  if ('issues' in result) throw new SpecValidationError(result.issues);
  return result.registry;
}
