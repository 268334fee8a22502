// Ingestion benchmark, Kafka → LMDB: Larder's ingest processes against the raw ceiling (the Kafka
// client's message stream + JSON.parse + commit), 1 and 2 processes, on the same broker and topic in
// the same run.
//
//   node --import tsx bench/ingest/kafka-ingest.ts [--events 500000] [--partitions 4] [--runs 3] [--only c2,a2]
//
// The broker is LARDER_BENCH_KAFKA_BROKERS, or a single KRaft node this script starts (and stops)
// itself, from the jars the tests use (scripts/kafka-broker.js). Each set-up consumes the same
// pre-filled topic under a fresh consumer group, in child processes (bench/ingest/kafka-worker.ts)
// that are loaded first and then told to go together. Throughput is events over the time from `go`
// until the group's committed offsets cover every event. The ceiling's workers have joined their
// group before `go`; Larder's join on `go`, so its group join (and, with 2 processes, a rebalance)
// counts against it. Larder commits an offset only once the events below it are in a
// durable (fsync) LMDB store; each Larder process writes its own store.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startKafkaBroker, type KafkaBroker } from '../../scripts/kafka-broker.js';
import { byUser } from '../../test/support/kafka-scenario.ts';
import { KafkaTestClient } from '../../test/support/kafka-topics.ts';
import { makeEvents } from '../../test/stream/fixtures/pipeline.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    partitions: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' }, // set-ups to run, e.g. c2,a2
  },
});
const N = Number(values.events);
const PARTITIONS = Number(values.partitions);
const RUNS = Number(values.runs);
const WORKER = fileURLToPath(new URL('./kafka-worker.ts', import.meta.url));

let broker: KafkaBroker | undefined;
const given = process.env.LARDER_BENCH_KAFKA_BROKERS;
if (given === undefined) broker = await startKafkaBroker();
const brokers = given ?? broker!.brokers;
const kafka = new KafkaTestClient(brokers.split(','));

const topic = KafkaTestClient.topicName('larder-bench');
await kafka.create([topic, `${topic}.retry`, `${topic}.dlq`], PARTITIONS);
const producedAt = performance.now();
const payloads = makeEvents(N, 1000).map((e) => JSON.stringify(e));
await kafka.produce(topic, payloads, byUser);
console.log(
  `${N.toLocaleString('en-US')} events in ${topic} (${PARTITIONS} partitions) produced in ` +
    `${((performance.now() - producedAt) / 1000).toFixed(1)} s; broker ${brokers}`,
);

type Mode = 'raw' | 'larder' | 'noop';

function startWorker(mode: Mode, group: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, mode, brokers, topic, group], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      if (c.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${mode} worker exited (${code}) before ready`)));
  });
  return { child, ready };
}

async function committedTotal(group: string): Promise<number> {
  const committed = await kafka.committed(group, topic);
  return committed.reduce((n, c) => n + (c > 0n ? Number(c) : 0), 0);
}

/** Runs `processes` workers of `mode` on a fresh group; events/s from `go` to all committed. */
async function measure(mode: Mode, processes: number): Promise<number> {
  const group = `larder-bench-${randomBytes(4).toString('hex')}`;
  const workers = Array.from({ length: processes }, () => startWorker(mode, group));
  try {
    await Promise.all(workers.map((w) => w.ready));
    await new Promise((r) => setTimeout(r, 1_000)); // the raw workers' group settles
    const started = performance.now();
    for (const w of workers) w.child.stdin?.write('go\n');
    const deadline = Date.now() + 300_000;
    for (;;) {
      const done = await committedTotal(group);
      if (done >= N) return N / ((performance.now() - started) / 1000);
      if (Date.now() > deadline) throw new Error(`${mode} ×${processes}: ${done} of ${N} after 300 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(
      workers.map((w) => new Promise((r) => (w.child.exitCode !== null ? r(null) : w.child.once('exit', r)))),
    );
  }
}

const setups = [
  ['(c1) ceiling: raw consume + parse + commit, 1 process', 'raw', 1],
  ['(a1) Larder ingest → durable LMDB, 1 process', 'larder', 1],
  ['(f1) Larder ingest → no-op store, 1 process', 'noop', 1],
  ['(c2) ceiling: raw consume + parse + commit, 2 processes', 'raw', 2],
  ['(a2) Larder ingest → durable LMDB, 2 processes', 'larder', 2],
] as const;
const only = values.only?.split(',');
const chosen = setups.filter(([name]) => only === undefined || only.includes(name.slice(1, 3)));
const results = new Map<string, number[]>();
try {
  for (let r = 1; r <= RUNS; r += 1) {
    console.log(`run ${r}/${RUNS}`);
    for (const [name, mode, processes] of chosen) {
      const rate = await measure(mode, processes);
      results.set(name, [...(results.get(name) ?? []), rate]);
      console.log(`  ${name.padEnd(58)} ${Math.round(rate).toLocaleString('en-US').padStart(9)} events/s`);
    }
  }
} finally {
  await kafka.deleteTopics([topic, `${topic}.retry`, `${topic}.dlq`]);
  await kafka.close();
  await broker?.close();
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = new Map([...results].map(([k, v]) => [k.slice(0, 4), median(v)]));
console.log(`\nmedians of ${RUNS} runs (${N.toLocaleString('en-US')} events, ${PARTITIONS} partitions):`);
for (const [name, rates] of results)
  console.log(
    `  ${name.padEnd(58)} ${Math.round(median(rates)).toLocaleString('en-US').padStart(9)} events/s`,
  );
if (m.has('(a1)') && m.has('(c1)') && m.has('(a2)') && m.has('(c2)'))
  console.log(
    `  (a1)/(c1) = ${(m.get('(a1)')! / m.get('(c1)')!).toFixed(2)}   (a2)/(c2) = ${(m.get('(a2)')! / m.get('(c2)')!).toFixed(2)}`,
  );
