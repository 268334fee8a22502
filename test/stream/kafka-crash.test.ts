import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaEndpoint, RESOLVE_AND_START_MS, type KafkaEndpoint } from '../support/kafka-broker.ts';
import { byUser } from '../support/kafka-scenario.ts';
import { KafkaTestClient } from '../support/kafka-topics.ts';
import { runCrashScenario, type CrashScenario } from './fixtures/crash-harness.ts';

let endpoint: KafkaEndpoint;
let kafka: KafkaTestClient;
beforeAll(async () => {
  endpoint = await kafkaEndpoint();
  kafka = new KafkaTestClient(endpoint.brokers);
}, RESOLVE_AND_START_MS);
afterAll(async () => {
  await kafka?.close();
  await endpoint?.release();
});

async function scenario(poisonEvery: number): Promise<CrashScenario & { cleanup(): Promise<void> }> {
  const topic = KafkaTestClient.topicName('larder-crash');
  const names = [topic, `${topic}.retry`, `${topic}.dlq`];
  await kafka.create(names, 4);
  const group = `larder-${randomBytes(4).toString('hex')}`;
  return {
    source: 'kafka',
    connection: { brokers: endpoint.brokers },
    topic,
    group,
    // A killed process leaves its member behind until its session times out: keep that short.
    options: { fetchWait: '100ms', sessionTimeout: '2s', heartbeatInterval: '300ms' },
    events: 12_000,
    users: 300,
    poisonEvery,
    kills: Number(process.env.LARDER_TEST_KILLS ?? 4),
    publish: (payloads) => kafka.produce(topic, payloads, byUser),
    async drained() {
      return (await kafka.drained(group, topic)) && (await kafka.drained(`${group}.retry`, `${topic}.retry`));
    },
    async deadLetterIds() {
      const letters = await kafka.readAll(`${topic}.dlq`, 800);
      return letters.map((l) => (JSON.parse(l.value) as { event_id: string }).event_id);
    },
    cleanup: () => kafka.deleteTopics(names),
  };
}

describe('Kafka: crash and restart on a topic with 4 partitions', () => {
  it(
    'SIGKILLed 4 times while consuming 12,000 events: nothing lost, no duplicates, per-key order kept',
    { timeout: 180_000 },
    async () => {
      const s = await scenario(0);
      try {
        const result = await runCrashScenario(s);
        expect(result.kills).toBe(4);
        expect(result.rowsAtKills.filter((n) => n > 0 && n < 12_000).length).toBeGreaterThanOrEqual(2);
      } finally {
        await s.cleanup();
      }
    },
  );

  it(
    'with a poison mix: every poison message in the DLQ topic, every other one ingested',
    { timeout: 180_000 },
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
