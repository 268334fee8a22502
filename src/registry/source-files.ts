import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface SourceFile {
  /** Path relative to the registry directory, with `/` separators. */
  readonly path: string;
  readonly content: string;
}

const YAML_FILE = /\.ya?ml$/i;

/**
 * Every `*.yaml` / `*.yml` under `dir`, recursively, sorted by relative path. Entries whose name
 * starts with a dot (`.git`, editor swap files) are skipped, so a Git checkout can be a registry.
 */
export async function listRegistryFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(current, entry.name);
      // Follow symlinks: stat says what they point at.
      const kind = entry.isSymbolicLink() ? await stat(full).catch(() => undefined) : entry;
      if (kind === undefined) continue;
      if (kind.isDirectory()) await walk(full);
      else if (kind.isFile() && YAML_FILE.test(entry.name))
        found.push(relative(dir, full).split(sep).join('/'));
    }
  };
  await walk(dir);
  return found.sort();
}

/** Reads the registry's YAML files, in sorted order. */
export async function readRegistryFiles(dir: string): Promise<SourceFile[]> {
  const paths = await listRegistryFiles(dir);
  return Promise.all(paths.map(async (path) => ({ path, content: await readFile(join(dir, path), 'utf8') })));
}

/** sha256 over the sorted (relative path, content) pairs: equal contents give equal versions. */
export function registryVersion(files: readonly SourceFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(file.path).update('\0').update(file.content).update('\0');
  }
  return hash.digest('hex');
}
