import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConsumerOptions } from '../../src/registry/stream-options.ts';
import { HEADER } from '../../src/ingest/stream/delivery-headers.ts';
import { createNatsSources, openNatsDeadLetters } from '../../src/ingest/stream/nats-source.ts';
import { payloadText } from '../../src/ingest/stream/stream-source.ts';
import { defaultStream } from '../../src/registry/compile-stream.ts';
import type { StreamDef } from '../../src/registry/types.ts';
import { describeSourceConformance, type ConformanceHarness } from './source-conformance.ts';

const SERVERS = 'nats://127.0.0.1:4222';
let nc: NatsConnection;
let jsm: JetStreamManager;

/** A fresh JetStream stream for one test topic, with its own DLQ stream and subject. */
export async function natsTopic(): Promise<{
  topic: string;
  options: Record<string, unknown>;
  cleanup(): Promise<void>;
}> {
  const id = randomBytes(5).toString('hex');
  const topic = `larder.test.${id}`;
  const dlqStream = `LARDER_TEST_DLQ_${id}`;
  await jsm.streams.add({ name: `LARDER_TEST_${id}`, subjects: [topic] });
  return {
    topic,
    options: { ackWait: '4s', dlqStream, dlqSubject: `larder.testdlq.${id}`, fetchWait: '100ms' },
    async cleanup() {
      await jsm.streams.delete(`LARDER_TEST_${id}`).catch(() => undefined);
      await jsm.streams.delete(dlqStream).catch(() => undefined);
    },
  };
}

const harness: ConformanceHarness = {
  source: 'nats',
  connection: { servers: SERVERS },
  retryStyle: 'redeliver',
  async setup() {
    nc = await connect({ servers: SERVERS });
    jsm = await jetstreamManager(nc);
  },
  async teardown() {
    await nc.drain();
  },
  async newTopic() {
    const t = await natsTopic();
    const js = jetstream(nc);
    return {
      ...t,
      async publish(payloads) {
        await Promise.all(payloads.map((p) => js.publish(t.topic, p)));
      },
      async readDeadLetters() {
        const dlq = openNatsDeadLetters(def(t.topic, t.options), t.topic);
        try {
          return (await dlq.list({ limit: 10_000 })).map((l) => ({
            payload: l.payload,
            headers: { ...l.headers },
          }));
        } catch {
          return [];
        } finally {
          await dlq.close();
        }
      },
    };
  },
};

function def(topic: string, options: Record<string, unknown>): StreamDef {
  return { ...defaultStream('events', true), source: 'nats', connection: { servers: SERVERS }, options };
}

describeSourceConformance('NATS JetStream source (conformance)', harness);

describe('NATS JetStream source specifics', () => {
  beforeAll(async () => harness.setup!());
  afterAll(async () => harness.teardown!());

  it('creates a durable explicit-ack pull consumer filtered on the topic', async () => {
    const t = await natsTopic();
    try {
      const d = def(t.topic, t.options);
      const [source] = createNatsSources(d, t.topic, readConsumerOptions('events', d.options));
      await source!.start();
      const info = await jsm.consumers.info(
        (await jsm.streams.find(t.topic)) as string,
        `larder_${t.topic.replace(/\./g, '_')}`,
      );
      expect(info.config.ack_policy).toBe('explicit');
      expect(info.config.durable_name).toBe(`larder_${t.topic.replace(/\./g, '_')}`);
      expect(info.config.filter_subject).toBe(t.topic);
      await source!.close();
    } finally {
      await t.cleanup();
    }
  });

  it('in-progress acks keep a slow message from being redelivered', async () => {
    const t = await natsTopic();
    try {
      const d = def(t.topic, t.options);
      await jetstream(nc).publish(t.topic, '{"slow":true}');
      const [source] = createNatsSources(d, t.topic, readConsumerOptions('events', d.options));
      await source!.start();
      const [m] = await source!.fetch({ max: 1, waitMs: 2000 });
      expect(m).toBeDefined();
      for (let i = 0; i < 8; i += 1) {
        await new Promise((r) => setTimeout(r, 1000)); // 8 s in all, twice the 4 s ackWait
        await source!.touch!([m!]);
      }
      expect(await source!.fetch({ max: 1, waitMs: 300 })).toEqual([]);
      await source!.ack([m!]);
      await source!.close();
    } finally {
      await t.cleanup();
    }
  });

  it('lists, shows and replays dead letters with the original identity', async () => {
    const t = await natsTopic();
    try {
      const d = def(t.topic, t.options);
      await jetstream(nc).publish(t.topic, '{"a":1}');
      const [source] = createNatsSources(d, t.topic, readConsumerOptions('events', d.options));
      await source!.start();
      const [m] = await source!.fetch({ max: 1, waitMs: 2000 });
      await source!.deadLetter(m!, {
        attempts: 2,
        code: 'LARDER_ERR_EVENT_TYPE',
        error: 'bad',
        firstFailureAt: 5,
      });
      await source!.ack([m!]);
      const dlq = openNatsDeadLetters(d, t.topic);
      expect(await dlq.count()).toBe(1);
      const [letter] = await dlq.list();
      expect((await dlq.get(letter!.id))?.headers[HEADER.lastError]).toBe('bad');
      await dlq.replay([letter!.id]);
      expect(await dlq.count()).toBe(0);
      await expect(dlq.replay(['999999'])).rejects.toMatchObject({ code: 'LARDER_ERR_DLQ_NOT_FOUND' });
      const [again] = await source!.fetch({ max: 1, waitMs: 2000 });
      expect(payloadText(again!.payload)).toBe('{"a":1}');
      expect(again!.headers.originPublishedAt).toBe(m!.publishedAt);
      await source!.ack([again!]);
      await dlq.close();
      await source!.close();
    } finally {
      await t.cleanup();
    }
  });
});
