import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readConsumerOptions } from '../../src/registry/stream-options.ts';
import { kafkaSettings } from '../../src/ingest/stream/kafka-settings.ts';
import { ensureKafkaTopics } from '../../src/ingest/stream/kafka-topics.ts';
import { createSources } from '../../src/ingest/stream/source-factory.ts';
import type { SourceMessage, StreamSource } from '../../src/ingest/stream/stream-source.ts';
import { defaultStream } from '../../src/registry/compile-stream.ts';
import type { StreamDef } from '../../src/registry/types.ts';
import { kafkaEndpoint, RESOLVE_AND_START_MS, type KafkaEndpoint } from '../support/kafka-broker.ts';
import { FAST_GROUP_OPTIONS, waitFor } from '../support/kafka-scenario.ts';
import { KafkaTestClient } from '../support/kafka-topics.ts';

/** The Kafka source's topics and lag, against a real broker that does not auto-create topics. */
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

function streamDef(group = `larder-${randomBytes(4).toString('hex')}`): StreamDef {
  return {
    ...defaultStream('events', true),
    source: 'kafka',
    connection: { brokers: endpoint.brokers },
    group,
    options: { ...FAST_GROUP_OPTIONS },
  };
}

async function open(def: StreamDef, topic: string): Promise<StreamSource[]> {
  const sources = await createSources(def, topic, readConsumerOptions('events', def.options), {
    dataDir: '/nonexistent',
  });
  cleanups.push(async () => {
    for (const s of sources) await s.close().catch(() => undefined);
  });
  await Promise.all(sources.map((s) => s.start()));
  return sources;
}

describe('Kafka source topics', () => {
  it('creates the .retry and .dlq topics, with as many partitions as the topic', async () => {
    const topic = KafkaTestClient.topicName();
    await kafka.create([topic], 3);
    cleanups.push(() => kafka.deleteTopics([topic, `${topic}.retry`, `${topic}.dlq`]));
    expect(await kafka.partitions(`${topic}.retry`)).toBeUndefined();
    const [main] = await open(streamDef(), topic);
    expect(await kafka.partitions(`${topic}.retry`)).toBe(3);
    expect(await kafka.partitions(`${topic}.dlq`)).toBe(3);
    // And they work: a dead letter lands in the DLQ topic.
    await kafka.produce(topic, ['{"i":1}']);
    const got: SourceMessage[] = [];
    await waitFor(
      'the message',
      async () => (got.push(...(await main!.fetch({ max: 1, waitMs: 200 }))), got.length > 0),
      15_000,
    );
    await main!.deadLetter(got[0]!, { attempts: 1, code: 'X', error: 'bad', firstFailureAt: 1 });
    expect((await kafka.readAll(`${topic}.dlq`)).map((m) => m.value)).toEqual(['{"i":1}']);
  });

  it('creates them once when many processes start at the same moment', async () => {
    const topic = KafkaTestClient.topicName();
    await kafka.create([topic], 2);
    cleanups.push(() => kafka.deleteTopics([topic, `${topic}.retry`, `${topic}.dlq`]));
    const settings = kafkaSettings(streamDef());
    // Several creators race: the losers get TOPIC_ALREADY_EXISTS, which counts as created.
    await Promise.all(Array.from({ length: 6 }, () => ensureKafkaTopics(settings, topic)));
    expect(await kafka.partitions(`${topic}.retry`)).toBe(2);
    expect(await kafka.partitions(`${topic}.dlq`)).toBe(2);
  });

  it('refuses to start on a topic that does not exist, naming it', async () => {
    const topic = KafkaTestClient.topicName('larder-missing');
    const def = streamDef();
    const sources = await createSources(def, topic, readConsumerOptions('events', def.options), {
      dataDir: '/nonexistent',
    });
    cleanups.push(async () => {
      for (const s of sources) await s.close().catch(() => undefined);
    });
    const started = sources[0]!.start();
    await expect(started).rejects.toMatchObject({ code: 'LARDER_ERR_STREAM_CONNECTION' });
    await expect(started).rejects.toThrow(new RegExp(`topic ${topic} does not exist`));
    expect(await kafka.partitions(`${topic}.retry`)).toBeUndefined();
  });
});

describe('Kafka source lag', () => {
  it('falls to 0 once everything is committed, and covers only the partitions each member owns', async () => {
    const topic = KafkaTestClient.topicName();
    await kafka.create([topic, `${topic}.retry`, `${topic}.dlq`], 4);
    cleanups.push(() => kafka.deleteTopics([topic, `${topic}.retry`, `${topic}.dlq`]));
    const def = streamDef();
    const [a] = await open(def, topic);
    const [b] = await open(def, topic); // resolves once the group settled with both members
    const payloads = Array.from({ length: 400 }, (_, i) => JSON.stringify({ i }));
    await kafka.produce(topic, payloads, (p) => `k${p}`);
    const got = new Map<string, SourceMessage>(); // a redelivery counts once
    await waitFor(
      'every message',
      async () => {
        for (const s of [a!, b!])
          for (const m of await s.fetch({ max: 500, waitMs: 100 })) got.set(`${m.partition}@${m.offset}`, m);
        return got.size >= payloads.length;
      },
      30_000,
    );
    const before = [...(await a!.lag()), ...(await b!.lag())];
    expect(before.reduce((n, l) => n + (l.messages ?? 0), 0)).toBe(payloads.length);
    // Commit what each fetched, as the core does: the last offset of each partition.
    const last = new Map<string, SourceMessage>();
    for (const m of got.values()) last.set(m.partition, m);
    for (const m of last.values()) {
      const owner = a!.isCurrent(m.partition, m.epoch) ? a! : b!;
      await owner.commit(m.partition, m.offset, m.epoch);
    }
    const lagA = await a!.lag();
    const lagB = await b!.lag();
    const partitions = [...lagA, ...lagB].map((l) => l.partition).sort();
    expect(partitions).toEqual(['0', '1', '2', '3']);
    expect([...lagA, ...lagB].map((l) => l.messages)).toEqual([0, 0, 0, 0]);
  });
});
