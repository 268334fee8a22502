/**
 * What a `vector(384)` costs against a 10-int row, in the store and through the server, and what
 * `rankBy` costs on 200 and 2,000 candidates. Every figure is also given as a ratio to raw lmdb-js
 * reads measured in the same run (the ceiling), and each is the median of `--runs` rounds.
 *
 *   npm run bench -- vectors [--items 20000] [--runs 5] [--sync]
 *
 * - store: bytes stored per value; `LmdbStore.write` (batches of 500) and `getStatic` (batches of
 *   100) per value, for the vector and for a value object of 10 ints. Ceiling: raw `get`s of the
 *   10-int values from the same database.
 * - serve: the real server (`app.inject`, no cache level, hot entity cache off, so every request
 *   reads LMDB), one GraphQL request for 20 entities selecting the vector, or the 10 ints. Ceiling:
 *   raw `get`s of the same 20 keys.
 * - rankBy: `items(ids: [200 | 2000], rankBy: {similarityTo: {entity: user, ...}, limit: 20}) { id }`.
 *   Ceiling: raw `get`s of the same candidates' vectors. For scale, the same 200 ids without
 *   rankBy, each reading a 10-int value and serving one int.
 *
 * Every figure is CPU time (user + system) of this one process, which does all the work in turn
 * (the server is in-process, `app.inject`): it barely moves with the machine's load, wall time
 * does. Writes are not fsynced unless `--sync`: the figure is the encoding and LMDB work.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Packr } from 'msgpackr';
import { pino } from 'pino';
import { FloatVector } from '../../src/keys/float-vector.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { DEFAULT_SERVE_LIMITS } from '../../src/serve/limits.ts';
import { createServer } from '../../src/serve/server.ts';
import { openLmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import type { StaticWrite } from '../../src/store/online-store.ts';

const { values: args } = parseArgs({
  options: {
    items: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '5' },
    sync: { type: 'boolean', default: false },
  },
});
const ITEMS = Number(args.items);
const RUNS = Number(args.runs);
const DIM = 384;
const INTS = Array.from({ length: 10 }, (_, i) => `a${i}`);

const dir = mkdtempSync(join(tmpdir(), 'larder-bench-vectors-'));
const registryDir = join(dir, 'registry');
mkdirSync(registryDir);
writeFileSync(
  join(registryDir, 'r.yaml'),
  [
    'entities:',
    '  item: {prefix: "i:", idType: int, plural: items}',
    '  user: {prefix: "u:", idType: int}',
    'streams: {ev: {source: http}}',
    'features:',
    '  item:',
    `    emb: {events: [{streamName: ev, topic: t, fields: [{name: emb, type: "vector(${DIM})"}]}]}`,
    `    ints: {events: [{streamName: ev, topic: t, fields: [${INTS.map((n) => `{name: ${n}, type: int}`).join(', ')}]}]}`,
    '  user:',
    `    interest: {events: [{streamName: ev, topic: t, fields: [{name: interest, type: "vector(${DIM})"}]}]}`,
    '',
  ].join('\n'),
);

let seed = 7;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const vector = (): FloatVector => {
  const v = new FloatVector(DIM);
  for (let i = 0; i < DIM; i++) v[i] = random() * 2 - 1;
  return v;
};
const ints = (id: number): Record<string, number> =>
  Object.fromEntries(INTS.map((n, i) => [n, id * 10 + i + Math.floor(random() * 1_000_000)]));

const env = openLmdbEnv(join(dir, 'data'), { sync: args.sync, mapSize: 8 * 2 ** 30 });
const store = new LmdbStore(env);
await store.open();
const t0 = Date.now();
const single = (pk: string, value: unknown): StaticWrite => ({
  kind: 'static',
  pk,
  container: 'single',
  mutation: { op: 'set', value },
  ts: t0,
  ttlMs: undefined,
  maxCount: 1,
});
const vectors = Array.from({ length: ITEMS }, vector);
const rows = Array.from({ length: ITEMS }, (_, i) => ints(i));
const embPk = (i: number): string => `i:${i + 1}#emb`;
const intsPk = (i: number): string => `i:${i + 1}#ints`;
await store.write([single('u:1#interest', vector())]);

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const results = new Map<string, number[]>();
const record = (name: string, value: number): void => {
  results.set(name, [...(results.get(name) ?? []), value]);
};
/**
 * CPU microseconds (user + system) since `start`: the work alone, which barely moves when other
 * processes load the machine (wall time here moved 2x between runs at a load average of 8).
 */
type Start = NodeJS.CpuUsage;
const begin = (): Start => process.cpuUsage();
const micros = (start: Start): number => {
  const used = process.cpuUsage(start);
  return used.user + used.system;
};

async function writeAll(pk: (i: number) => string, values: readonly unknown[]): Promise<number> {
  const start = begin();
  for (let i = 0; i < values.length; i += 500) {
    const batch: StaticWrite[] = [];
    for (let j = i; j < Math.min(i + 500, values.length); j++) batch.push(single(pk(j), values[j]));
    await store.write(batch);
  }
  await env.flushed();
  return micros(start) / values.length;
}

const readKeys = Array.from({ length: 200 }, () =>
  Array.from({ length: 100 }, () => Math.floor(random() * ITEMS)),
);
async function readAll(pk: (i: number) => string): Promise<number> {
  const start = begin();
  for (const keys of readKeys) await store.getStatic(keys.map(pk));
  return micros(start) / (readKeys.length * 100);
}
function rawReadAll(pk: (i: number) => string): number {
  const start = begin();
  let found = 0;
  for (const keys of readKeys) for (const k of keys) if (env.statics.get(pk(k)) !== undefined) found++;
  if (found === 0) throw new Error('raw reads found nothing');
  return micros(start) / (readKeys.length * 100);
}

// --- the server ---
const logger = pino({ level: 'warn' });
const app = await createServer(
  {
    registry: new RegistryHolder(await loadRegistry(registryDir)),
    store,
    deadLetters: {} as never,
    logger,
    ingest: async () => ({}) as never,
  },
  {
    logger,
    auth: { enabled: false, readKeys: [], ingestKeys: [], adminKeys: [], publicMetrics: true },
    limits: { ...DEFAULT_SERVE_LIMITS, maxIdsPerQuery: 5000 },
    hotEntityTtlMs: 0,
  },
);
await app.ready();

const idSets = (size: number, count: number): number[][] =>
  Array.from({ length: count }, () => Array.from({ length: size }, () => 1 + Math.floor(random() * ITEMS)));
const VECTOR_QUERY = 'query V($ids: [ID!]!) { items(ids: $ids) { emb } }';
const INTS_QUERY = `query I($ids: [ID!]!) { items(ids: $ids) { ints { ${INTS.join(' ')} } } }`;
const RANK_QUERY = `query R($ids: [ID!]!) { items(ids: $ids,
  rankBy: {similarityTo: {entity: user, id: 1, feature: interest}, limit: 20}) { id } }`;
const PLAIN_QUERY = 'query P($ids: [ID!]!) { items(ids: $ids) { id ints { a0 } } }';
const serveSets = idSets(20, 200);
const rank200 = idSets(200, 50);
const rank2000 = idSets(2000, 10);

async function serve(
  query: string,
  sets: readonly number[][],
  check: (body: string) => void,
): Promise<number> {
  const bodies = sets.map((ids) => JSON.stringify({ query, variables: { ids } }));
  const start = begin();
  for (const payload of bodies) {
    const res = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body.slice(0, 300)}`);
    check(res.body);
  }
  return micros(start) / bodies.length;
}
function rawGets(sets: readonly number[][], pk: (i: number) => string): number {
  const start = begin();
  for (const ids of sets) for (const id of ids) env.statics.get(pk(id - 1));
  return micros(start) / sets.length;
}
const noErrors = (body: string): void => {
  if (body.includes('"errors"')) throw new Error(body.slice(0, 300));
};
const ranked = (body: string): void => {
  noErrors(body);
  if ((JSON.parse(body) as { data: { items: unknown[] } }).data.items.length !== 20) {
    throw new Error(`rankBy did not return 20 items: ${body.slice(0, 200)}`);
  }
};

for (let run = 0; run < RUNS; run++) {
  // Alternating order, so neither case always runs on a warmer machine.
  if (run % 2 === 0) {
    record('store write, vector(384)', await writeAll(embPk, vectors));
    record('store write, 10 ints', await writeAll(intsPk, rows));
  } else {
    record('store write, 10 ints', await writeAll(intsPk, rows));
    record('store write, vector(384)', await writeAll(embPk, vectors));
  }
  record('store read, vector(384)', await readAll(embPk));
  record('store read, 10 ints', await readAll(intsPk));
  record('raw lmdb get, 10 ints', rawReadAll(intsPk));
  record('raw lmdb get, vector(384)', rawReadAll(embPk));

  await serve(VECTOR_QUERY, serveSets.slice(0, 20), noErrors); // warm: JIT, compiled queries
  await serve(INTS_QUERY, serveSets.slice(0, 20), noErrors);
  record('serve 20 entities, vector(384)', await serve(VECTOR_QUERY, serveSets, noErrors));
  record('serve 20 entities, 10 ints', await serve(INTS_QUERY, serveSets, noErrors));
  record('raw lmdb get of those 20, ints', rawGets(serveSets, intsPk));
  record('raw lmdb get of those 20, vector', rawGets(serveSets, embPk));

  await serve(RANK_QUERY, rank200.slice(0, 5), ranked);
  record('rankBy, 200 candidates', await serve(RANK_QUERY, rank200, ranked));
  record('no rankBy: 200 ids, one int each', await serve(PLAIN_QUERY, rank200, noErrors));
  record('raw lmdb get of 200 vectors', rawGets(rank200, embPk));
  record('rankBy, 2,000 candidates', await serve(RANK_QUERY, rank2000, ranked));
  record('raw lmdb get of 2,000 vectors', rawGets(rank2000, embPk));
}

const m = (name: string): number => median(results.get(name) ?? [Number.NaN]);
const packr = new Packr({ useRecords: false });
const vectorBytes = env.statics.getBinary(embPk(0))?.length ?? 0;
const intsBytes = env.statics.getBinary(intsPk(0))?.length ?? 0;
const asNumbers = packr.pack([0, t0, null, Array.from(vectors[0]!)]).length;
const asJson = JSON.stringify(Array.from(vectors[0]!)).length;

console.log(`vectors bench: ${ITEMS} items, vector(${DIM}) vs 10 ints, medians of ${RUNS} runs`);
console.log(
  `  stored bytes per value: vector ${vectorBytes} (as msgpack float64 numbers ${asNumbers}, as JSON ${asJson}); 10 ints ${intsBytes}`,
);
const row = (name: string, unit: string, ceiling?: string): void => {
  const value = m(name);
  const ratio = ceiling === undefined ? '' : `   ratio ${(value / m(ceiling)).toFixed(2)} to ${ceiling}`;
  console.log(`  ${name.padEnd(34)} ${value.toFixed(2).padStart(10)} ${unit} CPU${ratio}`);
};
row('raw lmdb get, 10 ints', 'µs/value');
row('raw lmdb get, vector(384)', 'µs/value', 'raw lmdb get, 10 ints');
row('store write, 10 ints', 'µs/value', 'raw lmdb get, 10 ints');
row('store write, vector(384)', 'µs/value', 'store write, 10 ints');
row('store read, 10 ints', 'µs/value', 'raw lmdb get, 10 ints');
row('store read, vector(384)', 'µs/value', 'raw lmdb get, 10 ints');
console.log(
  `  store read vector / 10 ints: ${(m('store read, vector(384)') / m('store read, 10 ints')).toFixed(2)}`,
);
row('raw lmdb get of those 20, ints', 'µs/request');
row('serve 20 entities, 10 ints', 'µs/request', 'raw lmdb get of those 20, ints');
row('serve 20 entities, vector(384)', 'µs/request', 'raw lmdb get of those 20, ints');
console.log(
  `  serve vector / 10 ints: ${(m('serve 20 entities, vector(384)') / m('serve 20 entities, 10 ints')).toFixed(2)}`,
);
row('raw lmdb get of 200 vectors', 'µs/request');
row('rankBy, 200 candidates', 'µs/request', 'raw lmdb get of 200 vectors');
row('no rankBy: 200 ids, one int each', 'µs/request', 'raw lmdb get of 200 vectors');
row('raw lmdb get of 2,000 vectors', 'µs/request');
row('rankBy, 2,000 candidates', 'µs/request', 'raw lmdb get of 2,000 vectors');

await app.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
