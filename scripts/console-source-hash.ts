import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the console build is made from, besides the files under src/console/ (dist/ aside). */
const SHARED_SOURCES = ['src/serve/admin/admin-types.ts'];

/** The front-end packages whose locked versions go into the build. */
const PACKAGES = [
  'vite',
  'preact',
  'uplot',
  'graphql',
  'cm6-graphql',
  'graphql-language-service',
  '@codemirror/autocomplete',
  '@codemirror/commands',
  '@codemirror/language',
  '@codemirror/lint',
  '@codemirror/state',
  '@codemirror/view',
  '@lezer/highlight',
];

/**
 * The SHA-256 of everything the console's build comes from: every file under src/console/ except
 * the build output, the admin API's types it shares with the server, and the locked versions of
 * its packages. `npm run console:build` writes it into dist/build-info.json, and a unit test
 * recomputes it, so a source change committed without a fresh build fails the suite.
 */
export function consoleSourceHash(root: string = ROOT): string {
  const hash = createHash('sha256');
  const files = [...listFiles(path.join(root, 'src/console'), root), ...SHARED_SOURCES].sort();
  for (const file of files) {
    // Line endings normalised: a checkout on Windows hashes the same.
    hash.update(`${file}\n`).update(readFileSync(path.join(root, file), 'utf8').replace(/\r\n/g, '\n'));
  }
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  for (const name of PACKAGES)
    hash.update(`${name}@${lock.packages[`node_modules/${name}`]?.version ?? 'absent'}\n`);
  return hash.digest('hex');
}

function listFiles(dir: string, root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const rel = path.relative(root, full).split(path.sep).join('/');
    if (rel === 'src/console/dist' || name === 'node_modules') continue;
    if (statSync(full).isDirectory()) out.push(...listFiles(full, root));
    else out.push(rel);
  }
  return out;
}
