// Ingestion benchmark, Redis Streams → LMDB: Larder's consumer against a sequential consumer and
// against the raw read+ack ceiling, measured in the same run. Also printed: (e) the ingestor+LMDB
// store alone (the write-path ceiling), and (f) Larder's consumer with a no-op store (the consumer
// core's own ceiling).
//
//   node --import tsx bench/ingest/redis-ingest.ts [--events 200000] [--seq-events 2000] [--runs 3]
//
// The default of 200,000 events per set-up measures the steady state: with 60,000 a run of (a)
// lasts about 1.4 s, and start-up and ramp-up weigh on it (both are recorded in BENCHMARKS.md).
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import {
  larderConsumer,
  prepare,
  rawCeiling,
  REDIS_URL,
  sequentialConsumer,
  storeCeiling,
  withSimulatedIo,
  NO_OP_INGESTOR,
} from './redis-setups.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    'seq-events': { type: 'string', default: '2000' },
    'io-events': { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
  },
});
const N = Number(values.events);
const NSEQ = Number(values['seq-events']);
const NIO = Number(values['io-events']);
const RUNS = Number(values.runs);
const IO_MS = 2;

const redis = new Redis(REDIS_URL);
const results: Record<string, number[]> = {};
const record = (name: string, rate: number): void => {
  (results[name] ??= []).push(rate);
  process.stdout.write(
    `  ${name.padEnd(34)} ${Math.round(rate).toLocaleString('en-US').padStart(9)} events/s\n`,
  );
};

async function run<T>(count: number, fn: (f: Awaited<ReturnType<typeof prepare>>) => Promise<T>): Promise<T> {
  const f = await prepare(redis, count);
  try {
    return await fn(f);
  } finally {
    await f.close();
  }
}

for (let r = 1; r <= RUNS; r += 1) {
  console.log(`run ${r}/${RUNS}`);
  record('(c) raw XREADGROUP+XACK ceiling', await run(N, (f) => rawCeiling(f, N)));
  record('(e) ingestor+LMDB alone (no broker)', await run(N, (f) => storeCeiling(f, N)));
  record('(a) Larder parallel consumer', await run(N, (f) => larderConsumer(f, N)));
  record('(f) Larder consumer, no-op store', await run(N, (f) => larderConsumer(f, N, NO_OP_INGESTOR)));
  record('(b) sequential, ack after each', await run(NSEQ, (f) => sequentialConsumer(f, NSEQ)));
  record(
    '(d-a) Larder, 2 ms I/O per event',
    await run(NIO, (f) => larderConsumer(f, NIO, withSimulatedIo(f.pipeline.ingestor, IO_MS))),
  );
  record(
    '(d-b) sequential, 2 ms I/O per event',
    await run(Math.min(NSEQ, 1000), (f) =>
      sequentialConsumer(f, Math.min(NSEQ, 1000), withSimulatedIo(f.pipeline.ingestor, IO_MS)),
    ),
  );
}
await redis.quit();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
const get = (prefix: string): number => Object.entries(m).find(([k]) => k.startsWith(prefix))![1];
console.log(
  `\nmedians of ${RUNS} runs (events: a/c/e ${N}, b ${NSEQ}, d-a ${NIO}, d-b ${Math.min(NSEQ, 1000)}):`,
);
for (const [k, v] of Object.entries(m))
  console.log(`  ${k.padEnd(34)} ${Math.round(v).toLocaleString('en-US').padStart(9)} events/s`);
console.log(
  `  (a)/(c) = ${(get('(a)') / get('(c)')).toFixed(2)}   (a)/(e) = ${(get('(a)') / get('(e)')).toFixed(2)}`,
);
console.log(`  (a)/(b) = ${(get('(a)') / get('(b)')).toFixed(1)}x`);
console.log(`  with ${IO_MS} ms I/O: (a)/(b) = ${(get('(d-a)') / get('(d-b)')).toFixed(1)}x`);
