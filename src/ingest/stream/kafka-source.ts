import { Consumer, Producer, stringSerializers, type ConsumerGroupJoinPayload } from '@platformatic/kafka';
import type { StreamDef } from '../../registry/types.ts';
import { backoffMs } from '../backoff.ts';
import type { ConsumerOptions } from '../../registry/stream-options.ts';
import { deadLetterHeaders, readHeaders, retryHeaders } from './delivery-headers.ts';
import { subscriptionRoundRobin } from './kafka-assigner.ts';
import { KafkaFetcher, type FetchedPartition } from './kafka-fetch.ts';
import { KafkaOwnership } from './kafka-ownership.ts';
import { isKafkaAuthFailure, kafkaStartError } from './kafka-security.ts';
import { kafkaSettings, type KafkaSettings } from './kafka-settings.ts';
import { ensureKafkaTopics } from './kafka-topics.ts';
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

export { kafkaSettings, type KafkaSettings };

/**
 * Kafka source on `@platformatic/kafka`: a consumer-group member that fetches for itself. The
 * core commits the contiguous watermark of each partition (`offset + 1`, Kafka's next-to-read).
 *
 * - Ownership and fencing (`kafka-ownership.ts`): a partition gets a new epoch each time it is
 *   newly assigned to this member. A partition kept across a rebalance keeps its epoch, position,
 *   buffered and in-flight messages: nothing is dropped, so nothing must be fetched again. A new
 *   one starts from the group's commit (or `startFrom` when there is none); results of a revoked
 *   one are dropped, and its new owner redoes them from the commit.
 * - Positions are this source's own (`kafka-fetch.ts`): no client stream keeps a position that
 *   could outlive a rebalance or die in an outage. A failed fetch, a failed rejoin, a failed
 *   retry or dead-letter publish is thrown from `fetch`, so the core logs it, counts it in
 *   `larder_stream_broker_errors_total` and tries again with backoff; a failed rejoin is retried
 *   here until the group takes the member back.
 * - Retries go to `<topic>.retry`, read by a second source in its own group (`<group>.retry`);
 *   dead letters to `<topic>.dlq`. Both topics are created at start when missing.
 * - Back-pressure: the next fetch is requested while the core works, and only while fewer than
 *   `fetchMax` messages are buffered.
 */
export class KafkaSource implements StreamSource {
  readonly id: string;
  readonly stream: string;
  readonly topic: string;
  readonly commitMode = 'watermark' as const;
  readonly #settings: KafkaSettings;
  readonly #readTopic: string;
  readonly #group: string;
  readonly #isRetry: boolean;
  readonly #bufferLow: number;
  readonly #owned = new KafkaOwnership();
  #consumer: Consumer | undefined;
  #producer: Producer<string, string, string, string> | undefined;
  #fetcher: KafkaFetcher | undefined;
  #buffer: SourceMessage[] = [];
  #pulling: Promise<void> | undefined;
  #failure: unknown;
  #rejoin: NodeJS.Timeout | undefined;
  #rejoinFailures = 0;
  #draining = false;
  #closed = false;

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
    this.#group = isRetry ? settings.retryGroup : settings.group;
    this.#bufferLow = consumer.fetchMax;
    this.id = `kafka:${def.name}/${this.#readTopic}`;
  }

  async start(): Promise<void> {
    const s = this.#settings;
    try {
      await ensureKafkaTopics(s, this.topic);
      this.#producer = new Producer({
        clientId: `${s.clientId}-producer`,
        bootstrapBrokers: s.brokers,
        ...s.security,
        serializers: stringSerializers,
      });
      this.#fetcher = new KafkaFetcher(s, this.#readTopic);
      const consumer = new Consumer({
        groupId: this.#group,
        clientId: s.clientId,
        bootstrapBrokers: s.brokers,
        ...s.security,
        sessionTimeout: s.sessionTimeoutMs,
        rebalanceTimeout: s.rebalanceTimeoutMs,
        heartbeatInterval: s.heartbeatIntervalMs,
        partitionAssigner: subscriptionRoundRobin,
        // No client-side retries: with them, every commit refused during a rebalance makes the
        // client send JoinGroup again, and a leader's JoinGroup starts one more rebalance, whose
        // refused commits start the next: a rebalance storm for as long as commits flow. A refused
        // commit now comes back at once, and the core retries it with the new generation.
        retries: 0,
      });
      this.#consumer = consumer;
      // Without these listeners an 'error' event (a failed rejoin) would end the process.
      consumer.on('error', (err: unknown) => this.#lostGroup(err));
      this.#producer.on('error', (err: unknown) => (this.#failure = err));
      consumer.on('consumer:group:join', (payload: ConsumerGroupJoinPayload) => this.#joined(payload));
      consumer.topics.track(this.#readTopic);
      await joinWithRetries(consumer);
    } catch (err) {
      await this.close();
      throw kafkaStartError(s, `the consumer of topic ${this.#readTopic} (group ${this.#group})`, err);
    }
  }

  #joined(payload: ConsumerGroupJoinPayload): void {
    this.#rejoinFailures = 0;
    const partitions = (payload.assignments ?? [])
      .filter((a) => a.topic === this.#readTopic)
      .flatMap((a) => a.partitions);
    this.#owned.apply(payload.memberId, payload.generationId ?? 0, partitions);
    this.#dropUnowned();
  }

  /** The client gave up rejoining the group: stop working on its partitions, rejoin ourselves. */
  #lostGroup(err: unknown): void {
    this.#failure = err;
    this.#owned.revokeAll();
    this.#dropUnowned();
    if (this.#rejoin !== undefined || this.#closed) return;
    const delay = Math.min(10_000, 500 * 2 ** Math.min(this.#rejoinFailures, 5));
    this.#rejoin = setTimeout(() => {
      this.#rejoin = undefined;
      if (this.#closed) return;
      this.#consumer?.joinGroup({}).catch((error: unknown) => {
        this.#rejoinFailures += 1;
        this.#lostGroup(error);
      });
    }, delay);
    this.#rejoin.unref();
  }

  #dropUnowned(): void {
    this.#buffer = this.#buffer.filter((m) => this.#owned.isCurrent(Number(m.partition), m.epoch));
  }

  async fetch(request: FetchRequest): Promise<SourceMessage[]> {
    if (this.#draining || this.#consumer === undefined) return [];
    this.#throwFailure();
    if (this.#buffer.length === 0) {
      await (this.#pulling ?? this.#pull(request.waitMs));
      this.#throwFailure();
    }
    const taken = this.#buffer.splice(0, request.max);
    if (this.#buffer.length < this.#bufferLow && this.#pulling === undefined && !this.#draining)
      void this.#pull(request.waitMs);
    return taken;
  }

  #throwFailure(): void {
    const failure = this.#failure;
    if (failure === undefined) return;
    this.#failure = undefined;
    throw failure;
  }

  /** One round of fetches for every owned partition; the outcome lands in the buffer or `#failure`. */
  #pull(waitMs: number): Promise<void> {
    const pulling = this.#fetchOwned(waitMs)
      .catch((err: unknown) => {
        if (!this.#closed) this.#failure = err;
      })
      .finally(() => {
        if (this.#pulling === pulling) this.#pulling = undefined;
      });
    this.#pulling = pulling;
    return pulling;
  }

  async #fetchOwned(waitMs: number): Promise<void> {
    const fetcher = this.#fetcher!;
    await this.#resolvePositions();
    const wants = this.#owned.positions();
    if (wants.length === 0) {
      await new Promise((r) => setTimeout(r, Math.min(waitMs, 200)));
      return;
    }
    const { partitions, outOfRange } = await fetcher.fetch(wants, waitMs);
    for (const fetched of partitions) this.#accept(fetched, wants);
    // Past the retention limit (or a truncated log): start over where `startFrom` says.
    for (const p of outOfRange) this.#owned.restart(p, wants.find((w) => w.partition === p)?.epoch);
  }

  #accept(fetched: FetchedPartition, wants: ReturnType<KafkaOwnership['positions']>): void {
    const want = wants.find((w) => w.partition === fetched.partition);
    // Revoked (or reassigned) while the fetch was in flight: these results are someone else's.
    if (want === undefined || !this.#owned.advance(fetched.partition, want.epoch, want.offset, fetched.next))
      return;
    const partition = String(fetched.partition);
    for (const r of fetched.records) {
      const headers = this.#isRetry
        ? readHeaders((name) => {
            const h = r.headers.find(([k]) => k?.toString() === name);
            return h?.[1]?.toString();
          })
        : { attempts: 0 };
      this.#buffer.push({
        partition,
        offset: r.offset.toString(),
        epoch: want.epoch,
        key: undefined,
        payload: r.value ?? '',
        headers,
        publishedAt: r.timestamp,
      });
    }
  }

  /** Newly assigned partitions start at the group's commit, or where `startFrom` says. */
  async #resolvePositions(): Promise<void> {
    const pending = this.#owned.unresolved();
    if (pending.length === 0) return;
    const partitions = pending.map((p) => p.partition);
    const committed = await this.#consumer!.listCommittedOffsets({
      topics: [{ topic: this.#readTopic, partitions }],
    });
    const commits = committed.get(this.#readTopic) ?? [];
    const useCommit = (p: { partition: number; fromStart: boolean }): boolean =>
      !p.fromStart && (commits[p.partition] ?? -1n) >= 0n;
    const fresh = pending.filter((p) => !useCommit(p)).map((p) => p.partition);
    const starts =
      fresh.length > 0
        ? await this.#fetcher!.offsets(fresh, this.#settings.startFrom)
        : new Map<number, bigint>();
    for (const p of pending) {
      const commit = commits[p.partition] ?? -1n;
      const position = useCommit(p) ? commit : starts.get(p.partition);
      this.#owned.resolve(p.partition, p.epoch, position, commit >= 0n ? commit : position);
    }
  }

  async ack(): Promise<void> {
    // Watermark broker: positions move through commit.
  }

  async commit(partition: string, offset: string, epoch: number): Promise<void> {
    const p = Number(partition);
    if (!this.#owned.isCurrent(p, epoch)) return;
    const next = BigInt(offset) + 1n;
    await this.#consumer!.commit({
      offsets: [{ topic: this.#readTopic, partition: p, offset: next, leaderEpoch: -1 }],
    });
    this.#owned.committed(p, epoch, next);
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
    return this.#owned.isCurrent(Number(partition), epoch);
  }

  /** Not yet committed messages of each partition this member owns (and only those). */
  async lag(): Promise<PartitionLag[]> {
    const owned = this.#owned.committedPositions();
    if (owned.length === 0 || this.#fetcher === undefined) return [];
    const ends = await this.#fetcher.offsets(
      owned.map((o) => o.partition),
      'latest',
    );
    return owned.map(({ partition, committed }) => {
      const end = ends.get(partition);
      return {
        partition: String(partition),
        messages:
          end === undefined || committed === undefined ? undefined : Math.max(0, Number(end - committed)),
      };
    });
  }

  async drain(): Promise<void> {
    this.#draining = true;
  }

  async close(): Promise<void> {
    this.#draining = true;
    this.#closed = true;
    if (this.#rejoin !== undefined) clearTimeout(this.#rejoin);
    for (const closing of [
      () => this.#consumer?.close(true),
      () => this.#fetcher?.close(),
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

/**
 * The first join, retried here since the client does not (see `retries: 0`): a group coordinator
 * can be briefly unavailable, on a broker just started. A refused authentication is not retried.
 */
async function joinWithRetries(consumer: Consumer, attempts = 6): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await consumer.joinGroup({});
      return;
    } catch (err) {
      if (attempt >= attempts || isKafkaAuthFailure(err)) throw err;
      await new Promise((r) => setTimeout(r, backoffMs(attempt - 1, 250, 2_000)));
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
    ...settings.security,
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
