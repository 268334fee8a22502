/**
 * Backfill benchmark: rows/s of `larder backfill` from JSONL and from Parquet into the embedded
 * LMDB store, with 1 and 2 pool workers, each as a ratio to the raw batched LMDB write rate of
 * the same rows measured in the same run.
 *
 *   node --import tsx bench/backfill/run.ts [--rows 5000000] [--runs 3] [--workers 1,2]
 *                                           [--formats jsonl,parquet] [--no-sync] [--keep]
 *                                           [--batch-rows 5000]
 *
 * - Input: one file per format, `rows` action rows `{id, user_id, ts, article}` over rows/50
 *   users (JSONL; Parquet uncompressed INT64 columns in row groups of 250k rows).
 * - Backfill: `BatchRuntime.submit` + `wait` on a fresh data directory each run, with a fixed
 *   `parallelism` equal to the worker count; timed from submit to the job's end (planning and
 *   thread start-up included).
 * - Ceiling: the same keys and values (`[pk, ts, eventId] -> [expiresAt, values]`) put with raw
 *   lmdb-js async puts into a fresh environment, in batches of 5000 rows, each batch awaited and
 *   flushed like a store write: no reading, parsing, mapping, dedupe, counts or trimming.
 *
 * Prints medians over `runs` and every sample, as text and one JSON line.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { batchConfigFrom } from '../../src/config/batch-section.ts';
import { openBatch } from '../../src/ingest/batch/open-batch.ts';
import { partitionKey } from '../../src/keys/keys.ts';
import { openLmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import type { ActionAppend } from '../../src/store/online-store.ts';
import { writeParquet } from '../../test/batch/support/parquet-writer.ts';

const USER = { prefix: 'u:' };

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '1,2' },
    formats: { type: 'string', default: 'jsonl,parquet' },
    'no-sync': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'batch-rows': { type: 'string' },
  },
});
const ROWS = Number(args.rows);
const RUNS = Number(args.runs);
const WORKERS = args.workers.split(',').map(Number);
const FORMATS = args.formats.split(',') as ('jsonl' | 'parquet')[];
const SYNC = !args['no-sync'];
const USERS = Math.max(1, Math.floor(ROWS / 50));
const T0 = 1_700_000_000_000;
const BATCH = 5000;

const root = mkdtempSync(path.join(os.tmpdir(), 'larder-bench-backfill-'));
const registryDir = path.join(root, 'registry');
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const log = (text: string): void => void process.stderr.write(`${text}\n`);

async function generate(): Promise<void> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(path.join(registryDir, 'data'), { recursive: true });
  const ingestion = (format: string, file: string, workers: number): string => `
  ${format}_w${workers}:
    source: {format: ${format}, path: data/${file}}
    feature: user.recent_views
    entityIdField: user_id
    timestampField: ts
    eventIdField: id
    fields: [{name: article, rename: article_id, type: int}]
    parallelism: ${workers}
    timeout: 2h`;
  writeFileSync(
    path.join(registryDir, 'registry.yaml'),
    `entities:
  user: {prefix: "u:", idType: int}
features:
  user:
    recent_views:
      featureType: action
      maxCount: 1000
      events: [{streamName: client_event, topic: views, fields: [{name: article_id, type: int}]}]
ingestions:${WORKERS.flatMap((w) => [ingestion('jsonl', 'views.jsonl', w), ingestion('parquet', 'views.parquet', w)]).join('')}
`,
  );
  if (FORMATS.includes('jsonl')) {
    const out = createWriteStream(path.join(registryDir, 'data/views.jsonl'));
    let chunk = '';
    for (let i = 0; i < ROWS; i++) {
      chunk += `{"id":${i},"user_id":${i % USERS},"ts":${T0 + i},"article":${i * 7}}\n`;
      if (chunk.length > 1 << 20) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
    }
    out.end(chunk);
    await once(out, 'finish');
  }
  if (FORMATS.includes('parquet')) {
    await writeParquet(
      path.join(registryDir, 'data/views.parquet'),
      ROWS,
      (i) => [BigInt(i), BigInt(i % USERS), BigInt(T0 + i), BigInt(i * 7)],
      {
        columns: [
          { name: 'id', type: 'int64' },
          { name: 'user_id', type: 'int64' },
          { name: 'ts', type: 'int64' },
          { name: 'article', type: 'int64' },
        ],
        rowGroupSize: 250_000,
      },
    );
  }
}

/** Raw batched LMDB puts of the rows a backfill writes; rows/s. */
async function ceiling(): Promise<number> {
  const dir = mkdtempSync(path.join(root, 'ceiling-'));
  const env = openLmdbEnv(dir, { sync: SYNC, mapSize: 8 * 2 ** 30 });
  const raw = env.root.openDB<unknown, [string, number, string]>({ name: 'bench_raw' });
  const started = performance.now();
  for (let start = 0; start < ROWS; start += BATCH) {
    let last: Promise<unknown> = Promise.resolve();
    const end = Math.min(ROWS, start + BATCH);
    for (let i = start; i < end; i++) {
      last = raw.put(
        [partitionKey(USER, String(i % USERS), 'recent_views'), T0 + i, String(i)],
        [null, { article_id: i * 7 }],
      );
    }
    await last;
    await env.flushed();
  }
  const seconds = (performance.now() - started) / 1000;
  await env.close();
  rmSync(dir, { recursive: true, force: true });
  return ROWS / seconds;
}

/**
 * The store's own write rate for the same rows: `LmdbStore.write` of prebuilt appends in batches
 * of 5000 (dedupe, row counts and trimming included), one write in flight, as a backfill task
 * does. Not the ceiling (the raw batched LMDB writes are); it shows how much of the gap is the store.
 */
async function storeRate(): Promise<number> {
  const dir = mkdtempSync(path.join(root, 'store-'));
  const store = new LmdbStore(dir, { env: { sync: SYNC, mapSize: 8 * 2 ** 30 } });
  await store.open();
  const started = performance.now();
  for (let start = 0; start < ROWS; start += BATCH) {
    const writes: ActionAppend[] = [];
    for (let i = start; i < Math.min(ROWS, start + BATCH); i++) {
      writes.push({
        kind: 'action',
        pk: partitionKey(USER, String(i % USERS), 'recent_views'),
        row: { ts: T0 + i, eventId: String(i), values: { article_id: i * 7 } },
        maxCount: 1000,
        ttlMs: undefined,
      });
    }
    await store.write(writes);
  }
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return ROWS / seconds;
}

async function backfill(
  format: string,
  workers: number,
): Promise<{ rowsPerSec: number; seconds: number; tasks: number }> {
  const dataDir = mkdtempSync(path.join(root, 'data-'));
  const batch = await openBatch({
    config: batchConfigFrom({ threads: Math.max(...WORKERS) }),
    registryDir,
    dataDir,
    sync: SYNC,
    ...(args['batch-rows'] === undefined ? {} : { batchRows: Number(args['batch-rows']) }),
  });
  try {
    const started = performance.now();
    const job = await batch.runtime.submit(`${format}_w${workers}`);
    const view = await batch.runtime.wait(job.id, { pollMs: 200 });
    const seconds = (performance.now() - started) / 1000;
    if (view.state !== 'succeeded' || view.progress.written !== ROWS) {
      throw new Error(
        `backfill ${format} w${workers}: ${view.state} ${view.progress.written} rows ${JSON.stringify(view.failure)}`,
      );
    }
    return { rowsPerSec: ROWS / seconds, seconds, tasks: view.progress.tasksTotal };
  } finally {
    await batch.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

log(`generating ${ROWS} rows (${FORMATS.join(', ')}) for ${USERS} users in ${root}`);
const genStart = performance.now();
await generate();
log(`generated in ${((performance.now() - genStart) / 1000).toFixed(1)} s`);

const ceilings: number[] = [];
const storeRates: number[] = [];
const samples = new Map<string, { rowsPerSec: number; seconds: number; tasks: number }[]>();
for (let run = 0; run < RUNS; run++) {
  const c = await ceiling();
  ceilings.push(c);
  log(`run ${run + 1}: ceiling ${Math.round(c)} rows/s`);
  const st = await storeRate();
  storeRates.push(st);
  log(`run ${run + 1}: LmdbStore.write ${Math.round(st)} rows/s`);
  for (const format of FORMATS) {
    for (const workers of WORKERS) {
      const key = `${format} w${workers}`;
      const sample = await backfill(format, workers);
      samples.set(key, [...(samples.get(key) ?? []), sample]);
      log(
        `run ${run + 1}: ${key}: ${Math.round(sample.rowsPerSec)} rows/s (${sample.seconds.toFixed(1)} s, ${sample.tasks} tasks)`,
      );
    }
  }
}

const ceilingMedian = median(ceilings);
const lines = [
  `backfill ${ROWS} rows into the embedded store, ${RUNS} runs, sync=${SYNC}, ${os.availableParallelism()} cores, node ${process.version}, load average at the end ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
  `ceiling (raw batched LMDB puts of the same rows): median ${Math.round(ceilingMedian)} rows/s  [${ceilings.map(Math.round).join(', ')}]`,
];
const storeMedian = median(storeRates);
lines.push(
  `reference (LmdbStore.write of the same rows, prebuilt): median ${Math.round(storeMedian)} rows/s = ${(storeMedian / ceilingMedian).toFixed(3)} of ceiling  [${storeRates.map(Math.round).join(', ')}]`,
);
const result: Record<string, unknown> = {
  rows: ROWS,
  runs: RUNS,
  sync: SYNC,
  loadAverage: os.loadavg(),
  ceiling: { median: ceilingMedian, samples: ceilings },
  store: { median: storeMedian, samples: storeRates },
};
for (const format of FORMATS) {
  const one = median((samples.get(`${format} w1`) ?? []).map((s) => s.rowsPerSec));
  for (const workers of WORKERS) {
    const list = samples.get(`${format} w${workers}`) ?? [];
    const m = median(list.map((s) => s.rowsPerSec));
    const scaling = workers === 1 || !Number.isFinite(one) ? '' : `, ×${(m / one).toFixed(2)} vs 1 worker`;
    lines.push(
      `${format.padEnd(7)} ${workers} worker${workers === 1 ? ' ' : 's'}: median ${Math.round(m)} rows/s = ${(m / ceilingMedian).toFixed(3)} of ceiling, ${(m / storeMedian).toFixed(3)} of LmdbStore.write${scaling}  [${list.map((s) => Math.round(s.rowsPerSec)).join(', ')}]`,
    );
    result[`${format}_w${workers}`] = {
      median: m,
      ratio: m / ceilingMedian,
      storeRatio: m / storeMedian,
      samples: list,
    };
  }
}
process.stdout.write(`${lines.join('\n')}\n${JSON.stringify(result)}\n`);
if (!args.keep) rmSync(root, { recursive: true, force: true });
