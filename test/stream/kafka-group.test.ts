import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HEADER } from '../../src/ingest/stream/delivery-headers.ts';
import { kafkaEndpoint, RESOLVE_AND_START_MS, type KafkaEndpoint } from '../support/kafka-broker.ts';
import {
  byUser,
  expectExactRows,
  gatedIngestor,
  openKafkaScenario,
  sleep,
  waitFor,
  type KafkaScenario,
} from '../support/kafka-scenario.ts';
import { KafkaTestClient } from '../support/kafka-topics.ts';
import { makeEvents, readState } from './fixtures/pipeline.ts';

/**
 * Consumer groups on a real broker: several members (each what one `larder ingest` process runs)
 * share a topic with 4 partitions and its retry topic. Whatever joins or leaves, every event is
 * written exactly once, in per-user order.
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

async function setup(
  options: Record<string, unknown> = {},
  partitions = 4,
): Promise<{ topic: string; group: string; scenario: KafkaScenario }> {
  const topic = KafkaTestClient.topicName();
  const names = [topic, `${topic}.retry`, `${topic}.dlq`];
  await kafka.create(names, partitions);
  const group = `larder-${randomBytes(4).toString('hex')}`;
  const scenario = await openKafkaScenario({ brokers: endpoint.brokers, topic, group, options });
  cleanups.push(
    () => kafka.deleteTopics(names),
    () => scenario.close(),
  );
  return { topic, group, scenario };
}

/** True once every group that reads `topic` or its retry topic committed everything. */
async function allCommitted(topic: string, group: string): Promise<boolean> {
  const retryGroups = [group, `${group}.retry`];
  if (!(await kafka.drained(group, topic))) return false;
  for (const g of retryGroups) if (await kafka.drained(g, `${topic}.retry`)) return true;
  return false;
}

describe('Kafka consumer groups on a real broker', () => {
  it(
    'two members: every partition of the topic and of its retry topic is consumed',
    { timeout: 90_000 },
    async () => {
      const { topic, group, scenario } = await setup();
      const users = 40;
      const events = makeEvents(2_000, users);
      // Half the events arrive through the retry topic (as after a failed first attempt).
      const direct = events.filter((_, i) => i % 2 === 0).map((e) => JSON.stringify(e));
      const retried = events.filter((_, i) => i % 2 === 1).map((e) => JSON.stringify(e));
      await scenario.member();
      await scenario.member();
      await kafka.produce(topic, direct, byUser);
      await kafka.produce(`${topic}.retry`, retried, byUser, { [HEADER.attempts]: '1' });
      await waitFor(
        'every event written',
        async () => (await rowCount(scenario, users)) >= events.length,
        30_000,
      );
      await waitFor('every offset committed', () => allCommitted(topic, group), 15_000);
      // Retried events arrive out of their original order: compare the rows, not the order.
      await expectExactRows(scenario, events, topic, users, { order: false });
    },
  );

  it(
    'a member joining while another holds uncommitted messages loses none of them',
    { timeout: 90_000 },
    async () => {
      // One small micro-batch at a time: most fetched messages wait in the queue, unwritten.
      const { topic, group, scenario } = await setup({
        concurrency: { min: 1, max: 1, initial: 1 },
        microBatchMax: 100,
      });
      const users = 40;
      const events = makeEvents(4_000, users);
      const first = events.slice(0, 2_000).map((e) => JSON.stringify(e));
      const second = events.slice(2_000).map((e) => JSON.stringify(e));
      await kafka.produce(topic, first, byUser);
      // Member A fetches everything but writes nothing yet: no partition has a commit.
      const gate = gatedIngestor(scenario.pipeline.ingestor);
      const a = await scenario.member({ ingestor: gate.ingestor });
      await waitFor('member A to hold messages', () => a.consumers()[0]!.inFlight >= 2_000, 20_000);
      expect((await kafka.committed(group, topic)).every((c) => c === -1n)).toBe(true);
      // B joins: A keeps some partitions and gives the others to B.
      await scenario.member();
      await sleep(3_000);
      gate.release();
      await kafka.produce(topic, second, byUser);
      await waitFor('every offset committed', () => allCommitted(topic, group), 30_000);
      await expectExactRows(scenario, events, topic, users);
    },
  );

  it(
    'members added and removed while events flow: nothing lost, nothing twice, order kept',
    { timeout: 120_000 },
    async () => {
      const { topic, group, scenario } = await setup();
      const users = 200;
      const events = makeEvents(12_000, users);
      const payloads = events.map((e) => JSON.stringify(e));
      const producing = (async () => {
        for (let i = 0; i < payloads.length; i += 500) {
          await kafka.produce(topic, payloads.slice(i, i + 500), byUser);
          await sleep(150);
        }
      })();
      await scenario.member();
      await sleep(800);
      const b = await scenario.member(); // joins mid-stream
      await sleep(1_200);
      const c = await scenario.member(); // a third one
      await sleep(800);
      await b.stop(); // leaves mid-stream
      await sleep(800);
      await c.stop();
      await producing;
      await waitFor('every offset committed', () => allCommitted(topic, group), 40_000);
      await expectExactRows(scenario, events, topic, users);
    },
  );
});

async function rowCount(scenario: KafkaScenario, users: number): Promise<number> {
  let n = 0;
  for (const [, s] of await readState(scenario.pipeline.store, users)) n += s.rows.length;
  return n;
}
