import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startIngestChild } from '../support/ingest-child.ts';
import { kafkaEndpoint, RESOLVE_AND_START_MS, type KafkaEndpoint } from '../support/kafka-broker.ts';
import {
  byUser,
  expectExactRows,
  openKafkaScenario,
  sleep,
  waitFor,
  type KafkaScenario,
} from '../support/kafka-scenario.ts';
import { KafkaTestClient } from '../support/kafka-topics.ts';
import { makeEvents, readState } from './fixtures/pipeline.ts';

/**
 * Several ingest processes sharing one topic through the consumer group, as a fleet does: two run,
 * one is SIGKILLed mid-stream, a third joins. They write one LMDB store (several processes may
 * open one), which then holds every event exactly once, in per-user order.
 */
let endpoint: KafkaEndpoint;
let kafka: KafkaTestClient;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  endpoint = await kafkaEndpoint();
  kafka = new KafkaTestClient(endpoint.brokers);
}, RESOLVE_AND_START_MS);
afterAll(async () => {
  await kafka?.close();
  await endpoint?.release();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rows(scenario: KafkaScenario, users: number): Promise<number> {
  let n = 0;
  for (const [, s] of await readState(scenario.pipeline.store, users)) n += s.rows.length;
  return n;
}

describe('Kafka: a fleet of ingest processes on one topic', () => {
  it(
    'two processes, one SIGKILLed mid-stream and a third started: every row exact',
    { timeout: 180_000 },
    async () => {
      const topic = KafkaTestClient.topicName('larder-fleet');
      const names = [topic, `${topic}.retry`, `${topic}.dlq`];
      await kafka.create(names, 4);
      cleanups.push(() => kafka.deleteTopics(names));
      const group = `larder-${randomBytes(4).toString('hex')}`;
      const scenario = await openKafkaScenario({
        brokers: endpoint.brokers,
        topic,
        group,
        options: { sessionTimeout: '2s', heartbeatInterval: '300ms', fetchWait: '100ms' },
      });
      cleanups.push(() => scenario.close());

      const users = 300;
      const events = makeEvents(20_000, users, 53);
      const payloads = events.map((e) => JSON.stringify(e));
      const children = [0, 1].map(() => startIngestChild(scenario.registryDir, scenario.dataDir));
      cleanups.push(async () => {
        for (const c of children) c.process.kill('SIGKILL');
      });
      await Promise.all(children.map((c) => c.ready));

      const producing = (async () => {
        for (let i = 0; i < payloads.length; i += 500) {
          await kafka.produce(topic, payloads.slice(i, i + 500), byUser);
          await sleep(120);
        }
      })();
      await waitFor('a quarter written', async () => (await rows(scenario, users)) >= 5_000, 60_000);
      children[0]!.process.kill('SIGKILL');
      await children[0]!.exited;
      const atKill = await rows(scenario, users);
      const third = startIngestChild(scenario.registryDir, scenario.dataDir);
      children.push(third);
      await third.ready;
      await producing;

      await waitFor(
        'every offset committed',
        async () =>
          (await kafka.drained(group, topic)) && (await kafka.drained(`${group}.retry`, `${topic}.retry`)),
        90_000,
      );
      for (const c of children.slice(1)) {
        expect(c.exitCode(), c.output()).toBeUndefined();
        c.process.kill('SIGTERM');
        await c.exited;
      }
      expect(atKill).toBeLessThan(20_000); // the kill landed mid-stream
      await expectExactRows(scenario, events, topic, users);
      const poison = events.filter((e) => typeof e.item_id === 'string').map((e) => e.event_id);
      const dlq = await kafka.readAll(`${topic}.dlq`, 800);
      const dead = new Set(dlq.map((l) => (JSON.parse(l.value) as { event_id: string }).event_id));
      expect([...dead].sort()).toEqual([...poison].sort());
    },
  );
});
