import { randomBytes } from 'node:crypto';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamMetrics } from '../../src/ingest/stream/stream-metrics.ts';
import { startIngestChild } from '../support/ingest-child.ts';
import { privateKafkaBroker } from '../support/kafka-broker.ts';
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
 * The Kafka source when the broker goes away, on a broker of this file's own (the shared one
 * stays up for the other tests): a restart mid-run, and a group rejoin that fails.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rows(scenario: KafkaScenario, users: number): Promise<number> {
  let n = 0;
  for (const [, s] of await readState(scenario.pipeline.store, users)) n += s.rows.length;
  return n;
}

async function brokerErrors(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric('larder_stream_broker_errors_total')?.get();
  return (metric?.values ?? []).reduce((n, v) => n + v.value, 0);
}

describe('Kafka source through broker outages', () => {
  it(
    'a broker restart mid-run: consumption resumes by itself, nothing lost, and the outage shows',
    { timeout: 150_000 },
    async () => {
      const broker = await privateKafkaBroker();
      cleanups.push(() => broker.close());
      const kafka = new KafkaTestClient([broker.brokers]);
      cleanups.push(() => kafka.close());
      const topic = KafkaTestClient.topicName();
      await kafka.create([topic, `${topic}.retry`, `${topic}.dlq`], 4);
      const group = `larder-${randomBytes(4).toString('hex')}`;
      const scenario = await openKafkaScenario({ brokers: [broker.brokers], topic, group });
      cleanups.push(() => scenario.close());
      const registry = new Registry();
      await scenario.member({ metrics: new StreamMetrics(registry) });

      const users = 100;
      const events = makeEvents(6_000, users);
      const payloads = events.map((e) => JSON.stringify(e));
      await kafka.produce(topic, payloads.slice(0, 3_000), byUser);
      await waitFor('the first half written', async () => (await rows(scenario, users)) >= 3_000, 30_000);

      await broker.kill();
      // Longer than the client's own retries of a fetch (3 attempts, 1 s apart).
      await sleep(8_000);
      await broker.start();
      await kafka.produce(topic, payloads.slice(3_000), byUser);
      await waitFor('the second half written', async () => (await rows(scenario, users)) >= 6_000, 60_000);
      await waitFor('every offset committed', () => kafka.drained(group, topic), 30_000);
      await expectExactRows(scenario, events, topic, users);
      expect(await brokerErrors(registry)).toBeGreaterThan(0);
    },
  );

  it(
    'a rejoin the broker refuses does not crash the ingest process; it joins once it can',
    { timeout: 150_000 },
    async () => {
      // A group holds one member: a member whose session expired cannot come back while another
      // holds the slot, so its client fails to rejoin and emits 'error'.
      const broker = await privateKafkaBroker({
        'group.max.size': '1',
        'group.min.session.timeout.ms': '1000',
      });
      cleanups.push(() => broker.close());
      const kafka = new KafkaTestClient([broker.brokers]);
      cleanups.push(() => kafka.close());
      const topic = KafkaTestClient.topicName();
      await kafka.create([topic, `${topic}.retry`, `${topic}.dlq`], 2);
      const group = `larder-${randomBytes(4).toString('hex')}`;
      const scenario = await openKafkaScenario({
        brokers: [broker.brokers],
        topic,
        group,
        options: { sessionTimeout: '2s', heartbeatInterval: '300ms' },
      });
      cleanups.push(() => scenario.close());
      const users = 50;
      const events = makeEvents(2_000, users);
      const payloads = events.map((e) => JSON.stringify(e));
      await kafka.produce(topic, payloads.slice(0, 1_000), byUser);

      const child = startIngestChild(scenario.registryDir, scenario.dataDir);
      cleanups.push(async () => void child.process.kill('SIGKILL'));
      await child.ready;
      await waitFor('the first half written', async () => (await rows(scenario, users)) >= 1_000, 30_000);

      // Freeze the process past its session timeout; another member takes the group's one slot.
      child.process.kill('SIGSTOP');
      await sleep(4_000);
      const squatter = new Consumer({
        groupId: group,
        clientId: 'larder-test-squatter',
        bootstrapBrokers: [broker.brokers],
        deserializers: stringDeserializers,
        sessionTimeout: 2_000,
        rebalanceTimeout: 2_000,
        heartbeatInterval: 300,
      });
      squatter.on('error', () => undefined);
      const stream = await squatter.consume({ topics: [topic], mode: 'latest', autocommit: false });
      child.process.kill('SIGCONT');
      // Its rejoin is refused (GROUP_MAX_SIZE_REACHED) for a while: it must stay up meanwhile.
      await sleep(6_000);
      expect(child.exitCode(), `ingest process output:\n${child.output()}`).toBeUndefined();

      await stream.close();
      await squatter.close(true);
      await kafka.produce(topic, payloads.slice(1_000), byUser);
      await waitFor('the second half written', async () => (await rows(scenario, users)) >= 2_000, 60_000);
      expect(child.exitCode()).toBeUndefined();
      child.process.kill('SIGTERM');
      await child.exited;
      await expectExactRows(scenario, events, topic, users);
    },
  );
});
