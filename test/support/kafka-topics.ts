import { randomBytes } from 'node:crypto';
import {
  Admin,
  Consumer,
  ListOffsetTimestamps,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';

/**
 * What the Kafka tests do to a broker besides running Larder against it: create topics, produce
 * keyed events, read a topic back, and ask whether a group has committed everything.
 */
export class KafkaTestClient {
  readonly brokers: string[];
  readonly admin: Admin;
  readonly #producer: Producer<string, string, string, string>;

  constructor(brokers: string[]) {
    this.brokers = brokers;
    this.admin = new Admin({ clientId: 'larder-test-admin', bootstrapBrokers: brokers });
    this.#producer = new Producer({
      clientId: 'larder-test-producer',
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
    });
    // A broker restart in a test must not crash the test process through an unheard 'error'.
    this.admin.on('error', () => undefined);
    this.#producer.on('error', () => undefined);
  }

  /** A fresh topic name; `create` makes it (and nothing else) with `partitions` partitions. */
  static topicName(prefix = 'larder-test'): string {
    return `${prefix}-${randomBytes(5).toString('hex')}`;
  }

  /** Creates the topics and waits until the broker serves their metadata. */
  async create(topics: readonly string[], partitions: number): Promise<void> {
    await this.admin.createTopics({ topics: [...topics], partitions, replicas: 1 });
    for (const topic of topics) {
      for (let i = 0; (await this.partitions(topic)) !== partitions; i += 1) {
        if (i > 100) throw new Error(`topic ${topic} did not appear`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async partitions(topic: string): Promise<number | undefined> {
    // Listing first: the client retries a metadata request for an unknown topic for seconds.
    if (!(await this.admin.listTopics()).includes(topic)) return undefined;
    const metadata = await this.admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
    return metadata?.topics.get(topic)?.partitionsCount;
  }

  /** Produces JSON payloads; a `key` sends all events of one key to one partition, in order. */
  async produce(
    topic: string,
    payloads: readonly string[],
    key?: (payload: string) => string,
    headers?: Record<string, string>,
  ): Promise<void> {
    for (let i = 0; i < payloads.length; i += 500) {
      await this.#producer.send({
        messages: payloads.slice(i, i + 500).map((value) => ({
          topic,
          value,
          ...(key === undefined ? {} : { key: key(value) }),
          ...(headers === undefined ? {} : { headers }),
        })),
      });
    }
  }

  /** Every message of `topic` from the start, read until nothing more came for `quietMs`. */
  async readAll(
    topic: string,
    quietMs = 1_500,
  ): Promise<{ value: string; headers: Record<string, string> }[]> {
    const consumer = new Consumer({
      groupId: `larder-test-reader-${randomBytes(4).toString('hex')}`,
      clientId: 'larder-test-reader',
      bootstrapBrokers: this.brokers,
      deserializers: stringDeserializers,
    });
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      const out: { value: string; headers: Record<string, string> }[] = [];
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, quietMs);
        stream.on('data', (m) => {
          out.push({ value: m.value, headers: Object.fromEntries(m.headers) });
          timer.refresh();
        });
      });
      await stream.close();
      return out;
    } finally {
      await consumer.close(true);
    }
  }

  /** End offsets (next offset to be written) per partition of `topic`. */
  async endOffsets(topic: string): Promise<bigint[]> {
    const count = (await this.partitions(topic)) ?? 0;
    const listed = await this.admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: count }, (_, partitionIndex) => ({
            partitionIndex,
            timestamp: ListOffsetTimestamps.LATEST,
          })),
        },
      ],
    });
    const out = new Array<bigint>(count).fill(0n);
    for (const p of listed[0]?.partitions ?? []) out[p.partitionIndex] = p.offset;
    return out;
  }

  /** Committed offsets of `group` on `topic` per partition (-1 where nothing was committed). */
  async committed(group: string, topic: string): Promise<bigint[]> {
    const count = (await this.partitions(topic)) ?? 0;
    const groups = await this.admin.listConsumerGroupOffsets({
      groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: [...Array(count).keys()] }] }],
    });
    const out = new Array<bigint>(count).fill(-1n);
    for (const t of groups[0]?.topics ?? [])
      if (t.name === topic) for (const p of t.partitions) out[p.partitionIndex] = p.committedOffset;
    return out;
  }

  /** True when `group` committed every partition of `topic` up to its end (empty ones count as done). */
  async drained(group: string, topic: string): Promise<boolean> {
    const [end, committed] = await Promise.all([this.endOffsets(topic), this.committed(group, topic)]);
    return end.every((e, i) => e === 0n || committed[i]! >= e);
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    await this.admin.deleteTopics({ topics: [...topics] }).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.#producer.close().catch(() => undefined);
    await this.admin.close().catch(() => undefined);
  }
}
