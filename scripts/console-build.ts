// `npm run console:build`: builds the web console (src/console/) with Vite into src/console/dist/,
// which is committed so that `larder serve` needs no build step, and records in
// dist/build-info.json the hash of the sources it came from (test/console/build-fresh.test.ts
// recomputes it) and the size of every file.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { build } from 'vite';
import { consoleSourceHash } from './console-source-hash.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'src/console/dist');

await build({ configFile: path.join(root, 'src/console/vite.config.ts') });

const files = listFiles(dist).map((file) => {
  const body = readFileSync(path.join(dist, file));
  return {
    file,
    bytes: body.length,
    gzip: gzipSync(body, { level: 9 }).length,
    brotli: brotliCompressSync(body).length,
  };
});
writeFileSync(
  path.join(dist, 'build-info.json'),
  `${JSON.stringify({ sourceHash: consoleSourceHash(root), files }, null, 2)}\n`,
);
for (const f of files) {
  process.stdout.write(
    `${f.file.padEnd(36)} ${String(f.bytes).padStart(8)} B  gzip ${String(f.gzip).padStart(7)} B  br ${String(f.brotli).padStart(7)} B\n`,
  );
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    return statSync(path.join(dir, name)).isDirectory() ? listFiles(path.join(dir, name), rel) : [rel];
  });
}
