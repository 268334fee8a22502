// The in-process write path alone: the real ingestor into a fresh durable LMDB store, batches of
// 1000 one after another, no broker (set-up (e) of redis-ingest.ts without Redis). For profiling:
//
//   node --import tsx bench/ingest/store-path.ts [--events 60000] [--runs 3]
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/ingest/store-path.ts --runs 1
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeEvents, openPipeline, writeTestRegistry } from '../../test/stream/fixtures/pipeline.ts';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '60000' }, runs: { type: 'string', default: '3' } },
});
const N = Number(values.events);
const RUNS = Number(values.runs);
const topic = 'larder-bench-store-path';

const rates: number[] = [];
const cpus: number[] = [];
for (let r = 1; r <= RUNS; r += 1) {
  const registryDir = mkdtempSync(path.join(os.tmpdir(), 'larder-bench-reg-'));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'larder-bench-data-'));
  writeTestRegistry(registryDir, {
    source: 'redis',
    connection: { url: 'redis://127.0.0.1:6379' },
    topic,
    features: 'action-only',
  });
  const pipeline = await openPipeline(registryDir, dataDir);
  const events = makeEvents(N, 1000).map((e) => {
    const text = JSON.stringify(e);
    return { stream: 'events', topic, body: JSON.parse(text) as unknown, bytes: text, receivedAt: 1 };
  });
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < events.length; i += 1000) await pipeline.ingestor.ingest(events.slice(i, i + 1000));
  const rate = N / ((performance.now() - started) / 1000);
  const used = process.cpuUsage(cpu);
  rates.push(rate);
  cpus.push((used.user + used.system) / N);
  console.log(
    `run ${r}: ${Math.round(rate).toLocaleString('en-US')} events/s, ${(cpus.at(-1) as number).toFixed(1)} µs CPU/event`,
  );
  await pipeline.close();
  rmSync(registryDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}
const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)] as number;
const cpuMedian = [...cpus].sort((a, b) => a - b)[Math.floor(cpus.length / 2)] as number;
console.log(
  `median of ${RUNS}: ${Math.round(median).toLocaleString('en-US')} events/s, ${cpuMedian.toFixed(1)} µs CPU/event`,
);
