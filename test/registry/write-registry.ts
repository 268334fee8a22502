import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { compileRegistry, type CompileOptions } from '../../src/registry/compile-registry.ts';
import type { Registry, SpecIssue } from '../../src/registry/types.ts';

/** Writes `files` (relative path → YAML text) into a fresh temp directory; returns it and a cleanup. */
export async function writeRegistry(
  files: Record<string, string>,
): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-spec-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Compiles `files` (relative path → YAML text) in memory, as the loader would read them. */
export function compileFiles(
  files: Record<string, string>,
  options: CompileOptions = {},
): { registry?: Registry; issues: readonly SpecIssue[]; warnings: readonly SpecIssue[] } {
  const sources = Object.entries(files)
    .map(([path, content]) => ({ path, content }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  const result = compileRegistry('/registry', sources, options);
  return 'registry' in result
    ? { registry: result.registry, issues: [], warnings: result.registry.warnings }
    : { issues: result.issues, warnings: result.warnings };
}

/** `line:column CODE message`: an issue as one line, for comparing lists of them. */
export function issueLine(issue: Pick<SpecIssue, 'line' | 'column' | 'code' | 'message'>): string {
  return `${issue.line}:${issue.column} ${issue.code} ${issue.message}`;
}
