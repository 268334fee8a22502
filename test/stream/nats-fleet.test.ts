import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNatsDeadLetters } from '../../src/ingest/stream/nats-source.ts';
import { defaultStream } from '../../src/registry/compile-stream.ts';
import { runFleetScenario } from './fixtures/fleet-harness.ts';

/**
 * Several ingest processes on one JetStream stream, as a fleet: they pull from one shared durable
 * consumer. Two run, one is SIGKILLed mid-stream (what it pulled and never acknowledged is
 * redelivered to the others after `ackWait`), a third joins. Every row exact, nothing twice.
 */
const SERVERS = 'nats://127.0.0.1:4222';
let nc: NatsConnection;
let jsm: JetStreamManager;
beforeAll(async () => {
  nc = await connect({ servers: SERVERS });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => nc.drain());

describe('NATS JetStream: a fleet of ingest processes on one durable consumer', () => {
  it(
    'two processes, one SIGKILLed mid-stream and a third started: every row exact, poison dead-lettered',
    { timeout: 180_000 },
    async () => {
      const id = randomBytes(5).toString('hex');
      const topic = `larder.fleet.${id}`;
      const stream = `LARDER_FLEET_${id}`;
      const durable = `larder_${topic.replace(/\./g, '_')}`;
      const options = {
        ackWait: '2s',
        dlqStream: `LARDER_FLEET_DLQ_${id}`,
        dlqSubject: `larder.fleetdlq.${id}`,
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
      try {
        const result = await runFleetScenario({
          source: 'nats',
          connection: { servers: SERVERS },
          topic,
          options,
          events: 20_000,
          users: 300,
          poisonEvery: 53,
          async publish(payloads) {
            await Promise.all(payloads.map((p) => js.publish(topic, p)));
          },
          async drained() {
            const info = await jsm.consumers.info(stream, durable).catch(() => undefined);
            return info !== undefined && info.num_pending === 0 && info.num_ack_pending === 0;
          },
          // Killed while messages are out and unacknowledged (the consumer does not say whose: the
          // dead process's come back to the others after ackWait).
          killWhen: async () => (await jsm.consumers.info(stream, durable)).num_ack_pending > 0,
          async deadLetterIds() {
            const dlq = openNatsDeadLetters(def, topic);
            try {
              const letters = await dlq.list({ limit: 100_000 }).catch(() => []);
              return letters.map((l) => (JSON.parse(l.payload) as { event_id: string }).event_id);
            } finally {
              await dlq.close();
            }
          },
        });
        expect(result.rowsAtKill).toBeGreaterThan(0);
      } finally {
        await jsm.streams.delete(stream).catch(() => undefined);
        await jsm.streams.delete(options.dlqStream).catch(() => undefined);
      }
    },
  );
});
