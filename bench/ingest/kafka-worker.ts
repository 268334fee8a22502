// One process of the Kafka ingestion benchmark (bench/ingest/kafka-ingest.ts starts them):
//
//   node --import tsx bench/ingest/kafka-worker.ts larder <brokers> <topic> <group>
//   node --import tsx bench/ingest/kafka-worker.ts raw    <brokers> <topic> <group>
//   node --import tsx bench/ingest/kafka-worker.ts noop   <brokers> <topic> <group>
//
// `larder`: `startConsumers` over the real ingestor and a durable LMDB store of its own, as one
// `larder ingest` process; it joins the group on `go`. `raw`: the ceiling — the Kafka client's own
// message stream, JSON.parse of every value, offsets committed every 100 ms; nothing else; it joins
// the group before `go`. Both print `ready` once loaded, consume on a `go` line on stdin, and stop
// on SIGTERM. `noop` is `larder` with a store that does nothing: the consumer's own ceiling.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import pino from 'pino';
import { startConsumers } from '../../src/ingest/stream/start-consumers.ts';
import { openPipeline, writeTestRegistry } from '../../test/stream/fixtures/pipeline.ts';
import { NO_OP_INGESTOR } from './redis-setups.ts';

const [mode, brokers, topic, group] = process.argv.slice(2);
if (mode === undefined || brokers === undefined || topic === undefined || group === undefined)
  throw new Error('usage: kafka-worker.ts larder|raw|noop <brokers> <topic> <group>');
/** Group timing for both set-ups alike: a joining process is noticed within 300 ms. */
const GROUP = { sessionTimeout: 6_000, heartbeatInterval: 300 };

async function larder(noop: boolean): Promise<() => Promise<void>> {
  const registryDir = mkdtempSync(path.join(os.tmpdir(), 'larder-bench-reg-'));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'larder-bench-data-'));
  writeTestRegistry(registryDir, {
    source: 'kafka',
    connection: { brokers: brokers!.split(',') },
    topic: topic!,
    group,
    options: { fetchWait: '50ms', sessionTimeout: '6s', heartbeatInterval: '300ms' },
    features: 'action-only',
  });
  const pipeline = await openPipeline(registryDir, dataDir);
  await waitForGo();
  const running = await startConsumers({
    registry: pipeline.registry,
    ingestor: noop ? NO_OP_INGESTOR : pipeline.ingestor,
    logger: pino({ level: 'warn' }),
    dataDir,
  });
  return async () => {
    await running.stop();
    await pipeline.close();
    rmSync(registryDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  };
}

async function raw(): Promise<() => Promise<void>> {
  const consumer = new Consumer({
    groupId: group!,
    clientId: 'larder-bench-raw',
    bootstrapBrokers: brokers!.split(','),
    deserializers: stringDeserializers,
    ...GROUP,
  });
  consumer.on('error', () => undefined);
  // Join before `go`, so that the measured run starts on a settled group: the client's message
  // stream does not survive a rebalance in the middle of a run reliably (a late autocommit of a
  // partition that moved can put the group's offset back).
  consumer.topics.track(topic!);
  await consumer.joinGroup({});
  await waitForGo();
  const stream = await consumer.consume({
    topics: [topic!],
    mode: 'committed',
    fallbackMode: 'earliest',
    autocommit: 100,
  });
  let parsed = 0;
  stream.on('data', (m) => {
    if ((JSON.parse(m.value) as { user_id?: string }).user_id !== undefined) parsed += 1;
  });
  return async () => {
    await stream.close();
    await consumer.close(true);
    if (parsed < 0) console.log(parsed); // keeps the parse from being optimised away
  };
}

let go: (() => void) | undefined;
const goSignal = new Promise<void>((resolve) => (go = resolve));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'go') go?.();
});
function waitForGo(): Promise<void> {
  process.stdout.write('ready\n');
  return goSignal;
}

const stop = mode === 'raw' ? await raw() : await larder(mode === 'noop');
process.stdout.write('started\n');
process.once('SIGTERM', () => {
  void stop().finally(() => process.exit(0));
});
