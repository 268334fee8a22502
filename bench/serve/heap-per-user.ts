/**
 * What the serving path keeps per hot user at DEFAULT settings: the old-generation heap after a
 * full GC, before and after `--users` Profile reads (each user once, then once more so that the
 * kept texts exist), divided by the count; then, with `--snapshot`, a heap snapshot summed by
 * object kind (V8 node type and constructor or string) to show what dominates.
 *
 *   node --expose-gc --import tsx bench/serve/heap-per-user.ts [--users 1000] [--snapshot] [--data <dir>]
 *
 * Needs the data of `bench/serve/run.ts` (run it once first).
 */
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load-config.ts';
import { createStoreFromConfig } from '../../src/runtime/create-store.ts';
import { serveOptionsFrom } from '../../src/runtime/serve-options.ts';
import { createServer } from '../../src/serve/server.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { seededRandom } from './generate-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const dataDir = arg('data', path.join(os.tmpdir(), 'larder-bench-serve', 'data'));
const count = Number(arg('users', '1000'));
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const PROFILE = `query Profile($id: ID!) { user(id: $id) { os region_id notification_keywords
  recent_view_articles(input: {count: 50}) { article_id timestamp article { title price } }
  recent_search_keywords(input: {count: 50}) { keyword timestamp } } }`;

const logger = pino({ level: 'warn' });
const config = loadConfig(undefined, {});
const registry = new RegistryHolder(await loadRegistry(path.join(here, 'registry-default')));
const store = createStoreFromConfig(config, { registry, dataDir });
await store.open();
const app = await createServer(
  { registry, store, deadLetters: {} as never, logger, ingest: async () => ({}) as never },
  { ...serveOptionsFrom(config), logger, console: false },
);
await app.ready();

const random = seededRandom(11);
const bodies = Array.from({ length: count }, () =>
  JSON.stringify({ query: PROFILE, variables: { id: String(1 + Math.floor(random() * 100_000)) } }),
);
const send = async (body: string): Promise<void> => {
  const res = await app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json' },
    payload: body,
  });
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body.slice(0, 300)}`);
};
const heap = (): { used: number; external: number } => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { used: m.heapUsed, external: m.external + m.arrayBuffers };
};

/** A heap snapshot summed by object kind: V8 node type and constructor, strings by length class. */
function summary(): Map<string, { bytes: number; count: number }> {
  gc!();
  const file = path.join(os.tmpdir(), `larder-heap-per-user-${process.pid}.heapsnapshot`);
  v8.writeHeapSnapshot(file);
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  rmSync(file);
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const byKind = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt!]!]!;
    const name = snapshot.strings[snapshot.nodes[i + nameAt!]!]!;
    const kind = type.endsWith('string')
      ? `${type} (${name.length < 16 ? '<16' : name.length < 64 ? '16–63' : name.length < 1024 ? '64–1023' : '≥1024'} chars)`
      : `${type} ${name.slice(0, 60)}`;
    const entry = byKind.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += snapshot.nodes[i + sizeAt!]!;
    entry.count++;
    byKind.set(kind, entry);
  }
  return byKind;
}

await send(bodies[0]!); // compiles the query, loads what every request shares
await send(bodies[0]!);
const snapshotBefore = process.argv.includes('--snapshot') ? summary() : undefined;
const before = heap();
for (const body of bodies) await send(body);
for (const body of bodies) await send(body); // the second read keeps the lists' texts
const after = heap();
const kb = (bytes: number): string => (bytes / count / 1024).toFixed(1);
console.log(
  `${count} hot users: heap ${kb(after.used - before.used)} KB per user, external (Buffers) ${kb(after.external - before.external)} KB per user`,
);

if (snapshotBefore !== undefined) {
  const delta = summary();
  for (const [kind, b] of snapshotBefore) {
    const a = delta.get(kind) ?? { bytes: 0, count: 0 };
    delta.set(kind, { bytes: a.bytes - b.bytes, count: a.count - b.count });
  }
  const top = [...delta].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 20);
  console.log(
    '| kind (growth from the first user to the last) | per hot user: bytes | objects |\n|---|---:|---:|',
  );
  for (const [kind, { bytes, count: n }] of top)
    console.log(`| ${kind} | ${Math.round(bytes / count)} | ${(n / count).toFixed(1)} |`);
}
await app.close();
await store.close();
