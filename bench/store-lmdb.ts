/**
 * LMDB online store benchmark: appends, 50-row range reads and static batch gets through
 * `LmdbStore`, each as a ratio to raw lmdb-js calls on the same data in the same run.
 *
 *   npx tsx bench/store-lmdb.ts [--rows 200000] [--batch 500] [--no-sync]
 *
 * Ceilings: raw async `put`s of the same keys and values (no dedupe, counts or trimming), raw
 * `getRange({reverse, limit: 50})` over the store's own rows, raw `get`s of the store's statics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openLmdbEnv } from '../src/store/lmdb/lmdb-env.ts';
import { MAX_TS, appendRow, saveRowMetas } from '../src/store/lmdb/lmdb-rows.ts';
import { LmdbStore } from '../src/store/lmdb/lmdb-store.ts';
import type { ActionAppend, StaticWrite } from '../src/store/online-store.ts';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '500' },
    'no-sync': { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const BATCH = Number(args.batch);
const PKS = Math.max(1, Math.floor(ROWS / 100));
const IN_FLIGHT = 4;
const sync = !args['no-sync'];

const dir = mkdtempSync(join(tmpdir(), 'larder-bench-'));
const env = openLmdbEnv(dir, { sync });
const raw = env.root.openDB<unknown, [string, number, string]>({ name: 'bench_raw' });
const t0 = Date.now();
const store = new LmdbStore(env, { now: () => t0 });
await store.open();

const appends: ActionAppend[] = Array.from({ length: ROWS }, (_, i) => ({
  kind: 'action',
  pk: `u:${i % PKS}#recent_view_articles`,
  row: {
    ts: t0 - ROWS + i,
    eventId: `ev-${i}`,
    values: { article_id: i, category_id: i % 37, price: 1000 + i },
  },
  maxCount: 100,
  ttlMs: 7 * 86_400_000,
}));

/** Runs `jobs` with at most IN_FLIGHT at once and returns ops/s over `ops` operations. */
async function rate(ops: number, jobs: (() => Promise<unknown>)[]): Promise<number> {
  const start = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < jobs.length) await jobs[next++]?.();
    }),
  );
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

function timeSync(iterations: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(iterations, 1000); i++) fn(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / 1e3 / iterations; // µs per call
}

const line = (name: string, ours: number, ceiling: number, unit: string) =>
  console.log(
    `${name.padEnd(34)} larder ${ours.toFixed(1).padStart(10)} ${unit}   raw ${ceiling.toFixed(1).padStart(10)} ${unit}   ratio ${(ours / ceiling).toFixed(2)}`,
  );

console.log(
  `LMDB store bench: ${ROWS} rows over ${PKS} keys, batches of ${BATCH}, ${IN_FLIGHT} in flight, sync=${sync}`,
);

// --- appends -------------------------------------------------------------------------------------
const rawAppendRate = await rate(
  ROWS,
  batches(appends).map((batch) => async () => {
    await Promise.all(
      batch.map((a) => raw.put([a.pk, a.row.ts, a.row.eventId], [t0 + (a.ttlMs ?? 0), a.row.values])),
    );
    await env.flushed();
  }),
);
const appendRate = await rate(
  ROWS,
  batches(appends).map((batch) => () => store.write(batch)),
);
line('append into empty keys', appendRate, rawAppendRate, 'rows/s');
// Steady state: every key already holds maxCount rows, so each new row also trims the oldest.
const newer = appends.map((a) => ({
  ...a,
  row: { ...a.row, ts: a.row.ts + ROWS, eventId: `new-${a.row.eventId}` },
}));
const steadyRate = await rate(
  ROWS,
  batches(newer).map((batch) => () => store.write(batch)),
);
line('append into full keys (trims)', steadyRate, rawAppendRate, 'rows/s');
// Redelivery: the same events again (dedupe hits rewrite their rows).
const redeliverRate = await rate(
  ROWS,
  batches(newer).map((batch) => () => store.write(batch)),
);
line('re-append (dedupe hit)', redeliverRate, rawAppendRate, 'rows/s');

// Main-thread cost of one append inside the write transaction (the part that does not overlap
// with commits): dedupe lookup, row put, index and count updates, trim.
const probe = newer
  .slice(0, 20_000)
  .map((a) => ({ ...a, row: { ...a.row, ts: a.row.ts + ROWS, eventId: `p-${a.row.eventId}` } }));
let inTxnNs = 0;
for (const batch of batches(probe)) {
  await env.root.transaction(() => {
    const start = process.hrtime.bigint();
    const metas = new Map();
    for (const a of batch) appendRow(env, a, metas);
    saveRowMetas(env, metas);
    inTxnNs += Number(process.hrtime.bigint() - start);
  });
}
console.log(
  `${'one append, CPU inside the txn'.padEnd(34)} ${(inTxnNs / 1e3 / probe.length).toFixed(1)} µs (steady state, with trim)`,
);

// One append on its own, awaited: the latency a lone event pays (commit + flush).
const lone = 300;
const loneStart = process.hrtime.bigint();
for (let i = 0; i < lone; i++) {
  await store.write([{ ...appends[i]!, row: { ...appends[i]!.row, eventId: `lone-${i}`, ts: t0 + i } }]);
}
const loneUs = Number(process.hrtime.bigint() - loneStart) / 1e3 / lone;
console.log(
  `${'one append alone, awaited'.padEnd(34)} ${loneUs.toFixed(0)} µs per write (commit${sync ? ' + fsync' : ''})`,
);

// --- range reads ---------------------------------------------------------------------------------
const pkOf = (i: number) => `u:${i % PKS}#recent_view_articles`;
const ourRange = timeSync(20_000, (i) => store.getRanges([{ pk: pkOf(i), count: 50, lastNSec: undefined }]));
const rawRange = timeSync(20_000, (i) => {
  const pk = pkOf(i);
  return [...env.rows.getRange({ start: [pk, MAX_TS], end: [pk], reverse: true, limit: 50 })];
});
line('50-row range read', 1e6 / ourRange, 1e6 / rawRange, 'reads/s');
console.log(`${''.padEnd(34)} ${ourRange.toFixed(1)} µs vs raw ${rawRange.toFixed(1)} µs per read`);

// --- static gets ---------------------------------------------------------------------------------
const statics: StaticWrite[] = Array.from({ length: 20_000 }, (_, i) => ({
  kind: 'static',
  pk: `c:flea${i}#article`,
  container: 'single',
  mutation: { op: 'set', value: { title: `article ${i}`, price: i * 100, category: i % 50 } },
  ts: t0,
  ttlMs: undefined,
  maxCount: 1,
}));
for (const batch of batches(statics)) await store.write(batch);
const ids = (i: number) => Array.from({ length: 100 }, (_, j) => `c:flea${(i * 100 + j) % 20_000}#article`);
const ourStatic = timeSync(2000, (i) => store.getStatic(ids(i)));
const rawStatic = timeSync(2000, (i) => ids(i).map((pk) => env.statics.get(pk)));
line('100-key static batch get', 1e6 / ourStatic, 1e6 / rawStatic, 'gets/s');
console.log(`${''.padEnd(34)} ${ourStatic.toFixed(1)} µs vs raw ${rawStatic.toFixed(1)} µs per 100 keys`);

await store.close();
await env.close();
rmSync(dir, { recursive: true, force: true });
