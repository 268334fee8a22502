import {
  Consumer,
  Producer,
  stringDeserializers,
  stringSerializers,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import { LarderError } from '../../errors.ts';
import type { StreamDef } from '../../registry/types.ts';
import { optionalString, optionError, type ConsumerOptions } from './consumer-options.ts';
import { deadLetterHeaders, readHeaders, retryHeaders } from './delivery-headers.ts';
import type { TopicPublisher } from './topic-publisher.ts';
import {
  payloadText,
  type FailureInfo,
  type FetchRequest,
  type PartitionLag,
  type RetryDisposition,
  type RetryInfo,
  type SourceMessage,
  type StreamSource,
} from './stream-source.ts';

export interface KafkaSettings {
  readonly brokers: string[];
  readonly group: string;
  readonly clientId: string;
  readonly startFrom: 'earliest' | 'latest';
  readonly retryTopic: (topic: string) => string;
  readonly dlqTopic: (topic: string) => string;
}

export function kafkaSettings(def: StreamDef): KafkaSettings {
  const where = (key: string): string => `streams.${def.name}.options.${key}`;
  const raw = def.connection.brokers ?? def.connection.url;
  if (raw === undefined)
    throw optionError(`streams.${def.name}.connection.brokers`, 'a list of host:port', raw);
  const brokers = (Array.isArray(raw) ? raw : String(raw).split(','))
    .map((b) => String(b).trim())
    .filter((b) => b !== '');
  const start = optionalString(def.options.startFrom, where('startFrom')) ?? 'earliest';
  if (start !== 'earliest' && start !== 'latest')
    throw optionError(where('startFrom'), 'earliest or latest', start);
  const retry = optionalString(def.options.retryTopic, where('retryTopic'));
  const dlq = optionalString(def.options.dlqTopic, where('dlqTopic'));
  return {
    brokers,
    group: def.group,
    clientId: optionalString(def.options.clientId, where('clientId')) ?? `larder-${def.name}`,
    startFrom: start,
    retryTopic: (topic) => retry ?? `${topic}.retry`,
    dlqTopic: (topic) => dlq ?? `${topic}.dlq`,
  };
}

type StringMessage = Message<string, string, string, string>;

/**
 * Kafka source on `@platformatic/kafka`: a group member with autocommit off. The core commits the
 * contiguous watermark of each partition (`offset + 1`, Kafka's next-to-read convention).
 *
 * - Fencing: the group generation is the epoch. A rebalance bumps it, so results of messages
 *   fetched before are dropped (never committed) and the new owner redoes them from the last commit.
 * - Retries are produced to `<topic>.retry` (read by a second source, same group) with `larder-*`
 *   headers and a due time; dead letters to `<topic>.dlq`. The topics must exist or the brokers
 *   must auto-create them.
 * - Back-pressure: the message stream is paused while the local buffer holds `2 × fetchMax`.
 */
export class KafkaSource implements StreamSource {
  readonly id: string;
  readonly stream: string;
  readonly topic: string;
  readonly commitMode = 'watermark' as const;
  readonly #settings: KafkaSettings;
  readonly #readTopic: string;
  readonly #isRetry: boolean;
  readonly #bufferMax: number;
  #consumer: Consumer<string, string, string, string> | undefined;
  #producer: Producer<string, string, string, string> | undefined;
  #messages: MessagesStream<string, string, string, string> | undefined;
  #buffer: StringMessage[] = [];
  #wake: (() => void) | undefined;
  #generation = 0;
  #assigned = new Set<string>();
  #draining = false;

  constructor(
    def: StreamDef,
    topic: string,
    settings: KafkaSettings,
    consumer: ConsumerOptions,
    isRetry: boolean,
  ) {
    this.stream = def.name;
    this.topic = topic;
    this.#settings = settings;
    this.#isRetry = isRetry;
    this.#readTopic = isRetry ? settings.retryTopic(topic) : topic;
    this.#bufferMax = Math.max(256, consumer.fetchMax * 2);
    this.id = `kafka:${def.name}/${this.#readTopic}`;
  }

  async start(): Promise<void> {
    const s = this.#settings;
    try {
      this.#producer = new Producer({
        clientId: `${s.clientId}-producer`,
        bootstrapBrokers: s.brokers,
        serializers: stringSerializers,
      });
      this.#consumer = new Consumer({
        groupId: s.group,
        clientId: s.clientId,
        bootstrapBrokers: s.brokers,
        deserializers: stringDeserializers,
      });
      this.#consumer.on('consumer:group:join', (payload) => {
        this.#generation = payload.generationId ?? this.#generation + 1;
        const assignments = payload.assignments ?? this.#consumer?.assignments ?? [];
        this.#assigned = new Set(
          assignments.filter((a) => a.topic === this.#readTopic).flatMap((a) => a.partitions.map(String)),
        );
        // Buffered messages belong to the previous generation: drop them, the new owner refetches.
        this.#buffer = [];
      });
      this.#messages = await this.#consumer.consume({
        topics: [this.#readTopic],
        mode: 'committed',
        fallbackMode: s.startFrom,
        autocommit: false,
      });
    } catch (err) {
      await this.close();
      throw new LarderError(
        'LARDER_ERR_STREAM_CONNECTION',
        `Kafka topic ${this.#readTopic} at ${s.brokers.join(',')}: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    this.#messages.on('data', (message: StringMessage) => {
      this.#buffer.push(message);
      if (this.#buffer.length >= this.#bufferMax) this.#messages?.pause();
      this.#wake?.();
    });
    this.#messages.on('error', () => this.#wake?.());
  }

  async fetch(request: FetchRequest): Promise<SourceMessage[]> {
    if (this.#draining || this.#messages === undefined) return [];
    if (this.#buffer.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, request.waitMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    const taken = this.#buffer.splice(0, request.max);
    if (this.#buffer.length < this.#bufferMax / 2 && this.#messages.isPaused()) this.#messages.resume();
    return taken.map((m) => this.#toMessage(m));
  }

  #toMessage(m: StringMessage): SourceMessage {
    const headers = this.#isRetry ? readHeaders((name) => m.headers.get(name)) : { attempts: 0 };
    return {
      partition: String(m.partition),
      offset: m.offset.toString(),
      epoch: this.#generation,
      key: undefined,
      payload: m.value,
      headers,
      publishedAt: Number(m.timestamp),
    };
  }

  async ack(): Promise<void> {
    // Watermark broker: positions move through commit.
  }

  async commit(partition: string, offset: string, epoch: number): Promise<void> {
    if (!this.isCurrent(partition, epoch)) return;
    await this.#consumer!.commit({
      offsets: [
        {
          topic: this.#readTopic,
          partition: Number(partition),
          offset: BigInt(offset) + 1n,
          leaderEpoch: -1,
        },
      ],
    });
  }

  async retry(message: SourceMessage, info: RetryInfo): Promise<RetryDisposition> {
    const headers = retryHeaders(message, this.stream, info);
    await this.#produce(this.#settings.retryTopic(this.topic), message, headers);
    return 'republished';
  }

  async deadLetter(message: SourceMessage, info: FailureInfo): Promise<void> {
    await this.#produce(
      this.#settings.dlqTopic(this.topic),
      message,
      deadLetterHeaders(message, this.stream, info),
    );
  }

  async #produce(topic: string, message: SourceMessage, headers: Record<string, string>): Promise<void> {
    await this.#producer!.send({
      messages: [
        {
          topic,
          key: message.headers.originOffset ?? message.offset,
          value: payloadText(message.payload),
          headers,
        },
      ],
    });
  }

  isCurrent(partition: string, epoch: number): boolean {
    return epoch === this.#generation && this.#assigned.has(partition);
  }

  async lag(): Promise<PartitionLag[]> {
    const lag = await this.#consumer!.getLag({ topics: [this.#readTopic] });
    return (lag.get(this.#readTopic) ?? []).map((n, partition) => ({
      partition: String(partition),
      messages: Number(n),
    }));
  }

  async drain(): Promise<void> {
    this.#draining = true;
    this.#wake?.();
    this.#messages?.pause();
  }

  async close(): Promise<void> {
    this.#draining = true;
    for (const closing of [
      () => this.#messages?.close(),
      () => this.#consumer?.close(true),
      () => this.#producer?.close(),
    ]) {
      try {
        await closing();
      } catch {
        // already closed or never connected
      }
    }
  }
}

export function createKafkaSources(def: StreamDef, topic: string, consumer: ConsumerOptions): StreamSource[] {
  const settings = kafkaSettings(def);
  return [
    new KafkaSource(def, topic, settings, consumer, false),
    new KafkaSource(def, topic, settings, consumer, true),
  ];
}

/** Publishes events to a Kafka topic, keyed by each event's key, acknowledged by the brokers. */
export function createKafkaPublisher(def: StreamDef): TopicPublisher {
  const settings = kafkaSettings(def);
  const producer = new Producer({
    clientId: `${settings.clientId}-publisher`,
    bootstrapBrokers: settings.brokers,
    serializers: stringSerializers,
  });
  return {
    async publish(topic, events) {
      if (events.length === 0) return;
      await producer.send({ messages: events.map((e) => ({ topic, key: e.key, value: e.payload })) });
    },
    async close() {
      await producer.close().catch(() => undefined);
    },
  };
}
