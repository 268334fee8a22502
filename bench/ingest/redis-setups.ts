import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { Ingestor } from '../../src/ingest/ingestor-contract.ts';
import { startConsumers } from '../../src/ingest/stream/start-consumers.ts';
import type { RegistryHolder } from '../../src/registry/registry-holder.ts';
import {
  makeEvents,
  openPipeline,
  writeTestRegistry,
  type Pipeline,
} from '../../test/stream/fixtures/pipeline.ts';
import { waitUntil } from '../../test/support/wait-until.ts';

/**
 * The set-ups of the ingestion benchmark, each over a fresh Redis stream holding the same events,
 * each writing into a fresh, durable (fsync) LMDB store through the real ingestor. The registry is
 * the stream tests' one with a single action feature: one store write per event.
 */
export const REDIS_URL = process.env.LARDER_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const silent = pino({ level: 'silent' });

export interface Fixture {
  readonly topic: string;
  readonly registryDir: string;
  readonly dataDir: string;
  readonly pipeline: Pipeline;
  close(): Promise<void>;
}

/** Publishes `count` events to a fresh stream and opens a fresh store for one set-up. */
export async function prepare(
  redis: Redis,
  count: number,
  options: Record<string, unknown> = {},
): Promise<Fixture> {
  const topic = `larder-bench:${Math.random().toString(16).slice(2, 10)}`;
  const events = makeEvents(count, 1000);
  for (let i = 0; i < events.length; i += 2000) {
    const pipeline = redis.pipeline();
    for (const e of events.slice(i, i + 2000)) pipeline.xadd(topic, '*', 'data', JSON.stringify(e));
    await pipeline.exec();
  }
  const registryDir = mkdtempSync(path.join(os.tmpdir(), 'larder-bench-reg-'));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'larder-bench-data-'));
  writeTestRegistry(registryDir, {
    source: 'redis',
    connection: { url: REDIS_URL },
    topic,
    options: { fetchWait: '50ms', ...options },
    features: 'action-only',
  });
  const pipeline = await openPipeline(registryDir, dataDir);
  return {
    topic,
    registryDir,
    dataDir,
    pipeline,
    async close() {
      await pipeline.close();
      const keys = await redis.keys(`${topic}*`);
      if (keys.length > 0) await redis.del(...keys);
      rmSync(registryDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Wraps an ingestor so that every event costs `ms` of (concurrent) simulated I/O. */
export function withSimulatedIo(inner: Ingestor, ms: number): Ingestor {
  // One awaited timer per call stands for the events' I/O calls issued together: the model of a
  // batch-capable client. A call with one event therefore costs exactly `ms`.
  return {
    async ingest(events, options) {
      await new Promise((r) => setTimeout(r, ms));
      return inner.ingest(events, options);
    },
  };
}

/** (a) Larder's consumer: startConsumers over the stream, until every event is written. */
export async function larderConsumer(
  f: Fixture,
  count: number,
  ingestor: Ingestor = f.pipeline.ingestor,
): Promise<number> {
  const started = performance.now();
  const running = await startConsumers({
    registry: f.pipeline.registry as RegistryHolder,
    ingestor,
    logger: silent,
    dataDir: f.dataDir,
  });
  // Polled every 2 ms: the poll interval bounds the timing error of the figure.
  await waitUntil(() => running.metrics.total('written') >= count, 600_000, `${count} events written`, 2);
  const seconds = (performance.now() - started) / 1000;
  await running.stop();
  return count / seconds;
}

/**
 * An ingestor that writes nothing and reports every event written: with it, set-up (a) measures
 * the consumer core and the broker alone, i.e. what Larder's consumer does when the store is free.
 */
export const NO_OP_INGESTOR: Ingestor = {
  async ingest(events) {
    const results = events.map(() => ({ outcome: 'written' as const, writes: 1, rejections: [] }));
    return { accepted: events.length, filtered: 0, rejected: 0, rejections: [], results };
  },
};

/** (b) Sequential: read one entry, ingest it, wait for durability, XACK it, next. */
export async function sequentialConsumer(
  f: Fixture,
  count: number,
  ingestor: Ingestor = f.pipeline.ingestor,
): Promise<number> {
  const redis = new Redis(REDIS_URL);
  await redis.xgroup('CREATE', f.topic, 'seq', '0');
  const started = performance.now();
  for (let done = 0; done < count;) {
    const reply = (await redis.xreadgroup('GROUP', 'seq', 'c', 'COUNT', 1, 'STREAMS', f.topic, '>')) as
      [string, [string, string[]][]][] | null;
    const entry = reply?.[0]?.[1]?.[0];
    if (entry === undefined) continue;
    const text = entry[1][1]!;
    await ingestor.ingest([
      { stream: 'events', topic: f.topic, body: JSON.parse(text), bytes: text, receivedAt: Date.now() },
    ]);
    await redis.xack(f.topic, 'seq', entry[0]);
    done += 1;
  }
  const rate = count / ((performance.now() - started) / 1000);
  await redis.quit();
  return rate;
}

/** (c) The ceiling: XREADGROUP COUNT 1000 + JSON.parse + XACK on one connection, no processing. */
export async function rawCeiling(f: Fixture, count: number): Promise<number> {
  const redis = new Redis(REDIS_URL);
  await redis.xgroup('CREATE', f.topic, 'raw', '0');
  const started = performance.now();
  let parsed = 0;
  for (let done = 0; done < count;) {
    const reply = (await redis.xreadgroup('GROUP', 'raw', 'c', 'COUNT', 1000, 'STREAMS', f.topic, '>')) as
      [string, [string, string[]][]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    for (const [, fields] of entries) parsed += (JSON.parse(fields[1]!) as { seq: number }).seq >= 0 ? 1 : 0;
    if (entries.length > 0) await redis.xack(f.topic, 'raw', ...entries.map(([id]) => id));
    done += entries.length;
  }
  const rate = count / ((performance.now() - started) / 1000);
  await redis.quit();
  if (parsed !== count) throw new Error('raw ceiling: parse count mismatch');
  return rate;
}

/** (e) The store ceiling: the ingestor alone, batches of 1000 one after another, no broker. */
export async function storeCeiling(f: Fixture, count: number): Promise<number> {
  const events = makeEvents(count, 1000).map((e) => {
    const text = JSON.stringify(e);
    return {
      stream: 'events',
      topic: f.topic,
      body: JSON.parse(text) as unknown,
      bytes: text,
      receivedAt: 1,
    };
  });
  const started = performance.now();
  for (let i = 0; i < events.length; i += 1000) await f.pipeline.ingestor.ingest(events.slice(i, i + 1000));
  return count / ((performance.now() - started) / 1000);
}
