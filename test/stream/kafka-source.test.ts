import { randomBytes } from 'node:crypto';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { kafkaSettings } from '../../src/ingest/stream/kafka-source.ts';
import { defaultStream } from '../../src/registry/compile-stream.ts';
import { kafkaEndpoint, type KafkaEndpoint } from '../support/kafka-broker.ts';
import { describeSourceConformance, type ConformanceHarness } from './source-conformance.ts';

/**
 * The contract suite against a real Apache Kafka broker (a single KRaft node): the one `npm test`
 * starts, or one of this file's own when it runs alone (test/support/kafka-broker.ts).
 */
function kafkaHarness(): ConformanceHarness {
  let endpoint: KafkaEndpoint;
  let brokers: string[] = [];
  let admin: Admin;
  let producer: Producer<string, string, string, string>;
  return {
    source: 'kafka',
    get connection() {
      return { brokers };
    },
    retryStyle: 'republish',
    async setup() {
      endpoint = await kafkaEndpoint();
      brokers = endpoint.brokers;
      admin = new Admin({ clientId: 'larder-test-admin', bootstrapBrokers: brokers });
      producer = new Producer({
        clientId: 'larder-test',
        bootstrapBrokers: brokers,
        serializers: stringSerializers,
      });
    },
    async teardown() {
      await producer?.close();
      await admin?.close();
      await endpoint?.release();
    },
    async newTopic() {
      const topic = `larder-test-${randomBytes(5).toString('hex')}`;
      const names = [topic, `${topic}.retry`, `${topic}.dlq`];
      await admin.createTopics({ topics: names, partitions: 1, replicas: 1 });
      return {
        topic,
        options: { fetchWait: '200ms', clientId: `larder-test-${randomBytes(3).toString('hex')}` },
        async publish(payloads) {
          await producer.send({ messages: payloads.map((value) => ({ topic, value })) });
        },
        async readDeadLetters() {
          const consumer = new Consumer({
            groupId: `larder-dlq-reader-${randomBytes(4).toString('hex')}`,
            clientId: 'larder-test-dlq',
            bootstrapBrokers: brokers,
            deserializers: stringDeserializers,
          });
          const stream = await consumer.consume({
            topics: [`${topic}.dlq`],
            mode: 'earliest',
            autocommit: false,
          });
          const out: { payload: string; headers: Record<string, string> }[] = [];
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 1500);
            stream.on('data', (m) => {
              out.push({ payload: m.value, headers: Object.fromEntries(m.headers) });
              timer.refresh();
            });
          });
          await stream.close();
          await consumer.close(true);
          return out;
        },
        async cleanup() {
          await admin.deleteTopics({ topics: names }).catch(() => undefined);
        },
      };
    },
  };
}

describeSourceConformance('Kafka source (conformance) against a real broker', kafkaHarness());

describe('Kafka source settings (no broker needed)', () => {
  it('reads brokers, group, retry and DLQ topics from the stream definition', () => {
    const s = kafkaSettings({
      ...defaultStream('events', true),
      source: 'kafka',
      connection: { brokers: 'k1:9092, k2:9092' },
      group: 'g',
      options: { dlqTopic: 'dead' },
    });
    expect(s.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(s.group).toBe('g');
    expect(s.retryTopic('t')).toBe('t.retry');
    expect(s.dlqTopic('t')).toBe('dead');
    expect(s.retryGroup).toBe('g.retry');
    expect(s.sessionTimeoutMs).toBe(30_000);
    expect(s.heartbeatIntervalMs).toBe(3_000);
  });

  it('reads group timing and the retry group, and refuses a heartbeat not shorter than the session', () => {
    const def = (options: Record<string, unknown>) => ({
      ...defaultStream('events', true),
      source: 'kafka' as const,
      connection: { brokers: ['k:9092'] },
      options,
    });
    const s = kafkaSettings(def({ sessionTimeout: '6s', retryGroup: 'retries' }));
    expect(s.sessionTimeoutMs).toBe(6_000);
    expect(s.heartbeatIntervalMs).toBe(2_000);
    expect(s.rebalanceTimeoutMs).toBeGreaterThanOrEqual(6_000);
    expect(s.retryGroup).toBe('retries');
    expect(() => kafkaSettings(def({ sessionTimeout: '6s', heartbeatInterval: '6s' }))).toThrow(
      expect.objectContaining({ code: 'LARDER_ERR_STREAM_OPTION' }),
    );
  });

  it('refuses a stream without brokers with a stable code', () => {
    expect(() => kafkaSettings({ ...defaultStream('events', true), source: 'kafka' })).toThrow(
      expect.objectContaining({ code: 'LARDER_ERR_STREAM_OPTION' }),
    );
  });
});
