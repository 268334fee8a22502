import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNatsDeadLetters } from '../../src/ingest/stream/nats-source.ts';
import { defaultStream } from '../../src/registry/compile-stream.ts';
import { runCrashScenario, type CrashScenario } from './fixtures/crash-harness.ts';

const SERVERS = 'nats://127.0.0.1:4222';
let nc: NatsConnection;
let jsm: JetStreamManager;
beforeAll(async () => {
  nc = await connect({ servers: SERVERS });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => nc.drain());

async function scenario(poisonEvery: number): Promise<CrashScenario & { cleanup(): Promise<void> }> {
  const id = randomBytes(5).toString('hex');
  const topic = `larder.crash.${id}`;
  const stream = `LARDER_CRASH_${id}`;
  const options = {
    ackWait: '2s',
    dlqStream: `LARDER_CRASH_DLQ_${id}`,
    dlqSubject: `larder.crashdlq.${id}`,
    fetchWait: '100ms',
  };
  await jsm.streams.add({ name: stream, subjects: [topic] });
  const js = jetstream(nc);
  const def = {
    ...defaultStream('events', true),
    source: 'nats' as const,
    connection: { servers: SERVERS },
    options,
  };
  return {
    source: 'nats',
    connection: { servers: SERVERS },
    topic,
    options,
    events: 20_000,
    users: 500,
    poisonEvery,
    kills: Number(process.env.LARDER_TEST_KILLS ?? 6),
    async publish(payloads) {
      await Promise.all(payloads.map((p) => js.publish(topic, p)));
    },
    async drained() {
      const info = await jsm.consumers
        .info(stream, `larder_${topic.replace(/\./g, '_')}`)
        .catch(() => undefined);
      return info !== undefined && info.num_pending === 0 && info.num_ack_pending === 0;
    },
    async deadLetterIds() {
      const dlq = openNatsDeadLetters(def, topic);
      try {
        const letters = await dlq.list({ limit: 100_000 }).catch(() => []);
        return letters.map((l) => (JSON.parse(l.payload) as { event_id: string }).event_id);
      } finally {
        await dlq.close();
      }
    },
    async cleanup() {
      await jsm.streams.delete(stream).catch(() => undefined);
      await jsm.streams.delete(options.dlqStream).catch(() => undefined);
    },
  };
}

describe('NATS JetStream: crash and restart', () => {
  it(
    'SIGKILLed 6 times while consuming 20,000 events: nothing lost, no duplicates, per-key order kept',
    { timeout: 120_000 },
    async () => {
      const s = await scenario(0);
      try {
        const result = await runCrashScenario(s);
        expect(result.rowsAtKills.filter((n) => n > 0 && n < 20_000).length).toBeGreaterThanOrEqual(3);
      } finally {
        await s.cleanup();
      }
    },
  );

  it(
    'with a poison mix: every poison message in the DLQ, every other one ingested',
    { timeout: 120_000 },
    async () => {
      const s = await scenario(37);
      try {
        await runCrashScenario(s);
      } finally {
        await s.cleanup();
      }
    },
  );
});
