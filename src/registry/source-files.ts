import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { DEFAULT_SPEC_LIMITS, type SpecLimits } from './spec-limits.ts';

export interface SourceFile {
  /** Path relative to the registry directory, with `/` separators. */
  readonly path: string;
  readonly content: string;
  /** Size on disk, bytes. A file too large to read (see `SpecLimits`) has empty `content`. */
  readonly bytes?: number;
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

/**
 * Reads the registry's YAML files, in sorted order. A file over `limits.maxFileBytes`, and every
 * file from the one that takes the total over `limits.maxTotalBytes`, is listed with its size but
 * not read: the compiler reports it (`filesWithinBounds`), and memory stays bounded.
 */
export async function readRegistryFiles(
  dir: string,
  limits: SpecLimits = DEFAULT_SPEC_LIMITS,
): Promise<SourceFile[]> {
  const paths = await listRegistryFiles(dir);
  const sizes = await Promise.all(paths.map(async (path) => (await stat(join(dir, path))).size));
  let total = 0;
  let overTotal = false;
  return Promise.all(
    paths.map(async (path, i) => {
      const bytes = sizes[i] ?? 0;
      const tooLarge = bytes > limits.maxFileBytes;
      if (!tooLarge) total += bytes;
      overTotal ||= total > limits.maxTotalBytes;
      if (tooLarge || overTotal) return { path, content: '', bytes };
      return { path, content: await readFile(join(dir, path), 'utf8'), bytes };
    }),
  );
}

/** sha256 over the sorted (relative path, content) pairs: equal contents give equal versions. */
export function registryVersion(files: readonly SourceFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(file.path).update('\0').update(file.content).update('\0');
    // An unread (too large) file still changes the version when its size does.
    if (file.content === '' && (file.bytes ?? 0) > 0) hash.update(`unread:${file.bytes}\0`);
  }
  return hash.digest('hex');
}
