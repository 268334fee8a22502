/**
 * CPU time and V8 allocation per request of the serving path with DEFAULT settings (no config
 * file, registry without `cache:` policies, as `larder serve` builds them), without sockets or a
 * load generator: the real server answers `app.inject` requests one after the other, and the process's
 * CPU time (user + system) is divided by the count. CPU time, unlike wall time, barely moves when
 * other processes load the machine, so this is the number to watch while optimising the hot path.
 *
 *   node --import tsx bench/serve/cpu-per-request.ts [--data <dir>] [--n 3000]
 *
 * Needs the data of `bench/serve/run.ts` (run it once first).
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import Fastify from 'fastify';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load-config.ts';
import { createStoreFromConfig } from '../../src/runtime/create-store.ts';
import { serveOptionsFrom } from '../../src/runtime/serve-options.ts';
import { createServer } from '../../src/serve/server.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import type { LayeredStore } from '../../src/cache/layered-store.ts';
import { seededRandom } from './generate-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const dataDir = arg('data', path.join(os.tmpdir(), 'larder-bench-serve', 'data'));
const n = Number(arg('n', '3000'));

const PROFILE = `query Profile($id: ID!) { user(id: $id) { os region_id notification_keywords
  recent_view_articles(input: {count: 50}) { article_id timestamp article { title price } }
  recent_search_keywords(input: {count: 50}) { keyword timestamp } } }`;
const CANDIDATES = 'query Candidates($ids: [ID!]!) { flea_articles(ids: $ids) { title price category } }';

// The default settings, as `larder serve --registry --data` builds them: no config file (so the
// default cache section and serve section), the registry without any `cache:` policy.
const logger = pino({ level: 'warn' });
const config = loadConfig(undefined, {});
const registry = new RegistryHolder(await loadRegistry(path.join(here, 'registry-default')));
const store = createStoreFromConfig(config, { registry, dataDir });
await store.open();
const serveOptions = serveOptionsFrom(config);
const serverOf = (fastPath: boolean): ReturnType<typeof createServer> =>
  createServer(
    { registry, store, deadLetters: {} as never, logger, ingest: async () => ({}) as never },
    { ...serveOptions, logger, fastPath, console: false },
  );
// The same server twice: with the compiled fast path (the default) and with every request
// executed by GraphQL, so one run shows what the fast path saves.
const app = await serverOf(true);
const full = await serverOf(false);
await full.ready();
await app.ready();

const random = seededRandom(3);
const users = Array.from({ length: 200 }, () => String(1 + Math.floor(random() * 100_000)));
const candidateSets = Array.from({ length: 50 }, () =>
  Array.from({ length: 200 }, () => String(1 + Math.floor(random() * 1_000_000))),
);
const profileBodies = users.map((id) => JSON.stringify({ query: PROFILE, variables: { id } }));
const candidateBodies = candidateSets.map((ids) => JSON.stringify({ query: CANDIDATES, variables: { ids } }));
const profileAnswer = (
  await app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json' },
    payload: profileBodies[0],
  })
).body;

const bare = Fastify({ logger: false });
bare.post(
  '/graphql',
  (_req, reply) => void reply.header('content-type', 'application/json; charset=utf-8').send(profileAnswer),
);
await bare.ready();

const results = new Map<string, number[]>();
const allocations = new Map<string, number[]>();

async function measure(
  label: string,
  target: { inject: typeof app.inject },
  bodies: readonly string[],
): Promise<void> {
  const run = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const res = await target.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json' },
        payload: bodies[i % bodies.length],
      });
      if (res.statusCode !== 200) throw new Error(`${label}: ${res.statusCode} ${res.body.slice(0, 300)}`);
    }
  };
  await run(Math.min(n, bodies.length * 3)); // warm: caches, JIT
  const profiler = new v8.GCProfiler();
  const heapBefore = process.memoryUsage().heapUsed;
  profiler.start();
  const before = process.cpuUsage();
  await run(n);
  const cpu = process.cpuUsage(before);
  const gcs = profiler.stop().statistics;
  // Allocated: the used heap's growth between GCs (end of one to the start of the next).
  let allocated = 0;
  let after = heapBefore;
  for (const gc of gcs) {
    allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - after);
    after = gc.afterGC.heapStatistics.usedHeapSize;
  }
  allocated += Math.max(0, process.memoryUsage().heapUsed - after);
  const perRequest = (cpu.user + cpu.system) / n;
  results.set(label, [...(results.get(label) ?? []), perRequest]);
  allocations.set(label, [...(allocations.get(label) ?? []), allocated / n / 1024]);
}

// Rounds alternate the cases, and the minimum of each is reported: other load on the machine
// only ever adds time.
const only = arg('only', 'all');
const rounds = Number(arg('rounds', '3'));
for (let round = 0; round < rounds; round++) {
  if (only === 'all' || only === 'bare') await measure('bare route (inject)', bare, profileBodies);
  if (only === 'all' || only === 'profile') {
    await measure('Profile', app, profileBodies);
    if (process.env['BENCH_FAST_ONLY'] !== '1') await measure('Profile (full executor)', full, profileBodies);
  }
  if (only === 'all' || only === 'candidates') {
    await measure('Candidates (200 ids)', app, candidateBodies);
    if (process.env['BENCH_FAST_ONLY'] !== '1')
      await measure('Candidates (full exec.)', full, candidateBodies);
  }
}
for (const [label, values] of results) {
  console.log(
    `${label.padEnd(24)} ${Math.min(...values)
      .toFixed(0)
      .padStart(
        5,
      )} µs CPU/request (min of ${values.length}: ${values.map((v) => v.toFixed(0)).join(', ')}), ${Math.min(...allocations.get(label)!).toFixed(1)} KB allocated/request`,
  );
}
const metrics = (store as Partial<LayeredStore>).metrics;
if (metrics !== undefined) console.log(`cache totals: ${JSON.stringify(Object.fromEntries(metrics.totals))}`);
await app.close();
await full.close();
await bare.close();
await store.close();
