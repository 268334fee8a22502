import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { readRegistryFiles, registryVersion, type SourceFile } from '../../registry/source-files.ts';
import type { Registry } from '../../registry/types.ts';

/** The files `registry` was compiled from and the other files beside them, or undefined when they changed since. */
export async function filesOf(
  registry: Registry,
): Promise<{ files: SourceFile[]; assets: SourceFile[] } | undefined> {
  const files = await readRegistryFiles(registry.dir);
  if (registryVersion(files) !== registry.version) return undefined;
  return {
    files: files.map(({ path, content }) => ({ path, content })),
    assets: await readAssets(registry.dir),
  };
}

const ASSET_MAX_BYTES = 64 * 1024;
const ASSETS_MAX_BYTES = 256 * 1024;

/** The non-YAML files of a registry directory (dot entries and node_modules skipped), bounded. */
async function readAssets(dir: string): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  let total = 0;
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && !/\.ya?ml$/i.test(entry.name)) {
        const size = (await stat(full)).size;
        if (size > ASSET_MAX_BYTES || total + size > ASSETS_MAX_BYTES) continue;
        total += size;
        out.push({ path: relative(dir, full).split(sep).join('/'), content: await readFile(full, 'utf8') });
      }
    }
  };
  await walk(dir);
  return out;
}
