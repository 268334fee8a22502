import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { pino } from 'pino';
import { loadConfig } from '/work/wt/perf/src/config/load-config.ts';
import { createStoreFromConfig } from '/work/wt/perf/src/runtime/create-store.ts';
import { serveOptionsFrom } from '/work/wt/perf/src/runtime/serve-options.ts';
import { createServer } from '/work/wt/perf/src/serve/server.ts';
import { loadRegistry } from '/work/wt/perf/src/registry/load.ts';
import { RegistryHolder } from '/work/wt/perf/src/registry/registry-holder.ts';
import { seededRandom } from '/work/wt/perf/bench/serve/generate-data.ts';
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const here = '/work/wt/perf/bench/serve';
const PROFILE = `query Profile($id: ID!) { user(id: $id) { os region_id notification_keywords
  recent_view_articles(input: {count: 50}) { article_id timestamp article { title price } }
  recent_search_keywords(input: {count: 50}) { keyword timestamp } } }`;
const CANDIDATES = 'query Candidates($ids: [ID!]!) { flea_articles(ids: $ids) { title price category } }';
const config = loadConfig(undefined, {});
const registry = new RegistryHolder(await loadRegistry(path.join(here, 'registry-default')));
const store = createStoreFromConfig(config, { registry, dataDir: '/tmp/larder-bench-serve/data' });
await store.open();
const app = await createServer({ registry, store, deadLetters: {} as never, logger: pino({ level: 'warn' }), ingest: async () => ({}) as never }, { ...serveOptionsFrom(config), logger: pino({ level: 'warn' }), console: false, hotEntityTtlMs: 600_000 });
await app.ready();
const random = seededRandom(7);
const users = Array.from({ length: Number(process.env.USERS ?? 5000) }, () => 1 + Math.floor(random() * 100000));
const pool = Array.from({ length: 100000 }, () => 1 + Math.floor(random() * 1000000));
const mb = () => { gc(); gc(); return (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0); };
console.log('start heap MB', mb());
for (const id of users) await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ query: PROFILE, variables: { id: String(id) } }) });
console.log('after 5k profiles heap MB', mb());
for (let i = 0; i < Number(process.env.CANDS ?? 500); i++) await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ query: CANDIDATES, variables: { ids: Array.from({ length: 200 }, () => String(pool[Math.floor(random() * pool.length)])) } }) });
console.log('after 500 candidates heap MB', mb());
if (process.env.SNAP) { console.log(v8.writeHeapSnapshot('/tmp/perf-heap.heapsnapshot')); }
await app.close();
