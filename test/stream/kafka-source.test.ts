import { randomBytes } from 'node:crypto';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { kafkaSettings } from '../../src/ingest/stream/kafka-source.ts';
import { defaultStream } from '../../src/registry/compile-stream.ts';
import { describeSourceConformance, type ConformanceHarness } from './source-conformance.ts';

/**
 * No Kafka broker can be installed on the CI machines. The whole contract suite runs against a
 * real cluster when LARDER_TEST_KAFKA_BROKERS=host:port[,host:port] is set, and is reported as
 * skipped otherwise. The offset logic it relies on (contiguous watermark, fencing) is the shared
 * core, which the other adapters' suites and the core unit tests exercise.
 */
const BROKERS = process.env.LARDER_TEST_KAFKA_BROKERS?.split(',').filter((b) => b !== '');

function harnessFor(brokers: string[]): ConformanceHarness {
  let admin: Admin;
  let producer: Producer<string, string, string, string>;
  return {
    source: 'kafka',
    connection: { brokers },
    retryStyle: 'republish',
    async setup() {
      admin = new Admin({ clientId: 'larder-test-admin', bootstrapBrokers: brokers });
      producer = new Producer({
        clientId: 'larder-test',
        bootstrapBrokers: brokers,
        serializers: stringSerializers,
      });
    },
    async teardown() {
      await producer.close();
      await admin.close();
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

describeSourceConformance(
  BROKERS === undefined
    ? 'Kafka source (conformance) — skipped: set LARDER_TEST_KAFKA_BROKERS=host:port to run it against a broker'
    : `Kafka source (conformance) against ${BROKERS.join(',')}`,
  BROKERS === undefined ? undefined : harnessFor(BROKERS),
);

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
  });

  it('refuses a stream without brokers with a stable code', () => {
    expect(() => kafkaSettings({ ...defaultStream('events', true), source: 'kafka' })).toThrow(
      expect.objectContaining({ code: 'LARDER_ERR_STREAM_OPTION' }),
    );
  });
});
