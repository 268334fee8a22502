import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, headers as natsHeaders, nanos, type NatsConnection } from '@nats-io/transport-node';
import { LarderError } from '../../errors.ts';
import type { StreamDef } from '../../registry/types.ts';
import type { BrokerDeadLetter, BrokerDeadLetterQueue } from './broker-dlq-contract.ts';
import {
  DEFAULT_CONSUMER_OPTIONS,
  readNatsOptions,
  type ConsumerOptions,
} from '../../registry/stream-options.ts';
import type { TopicPublisher } from './topic-publisher.ts';
import { deadLetterHeaders, HEADER, readHeaders } from './delivery-headers.ts';
import type {
  FailureInfo,
  FetchRequest,
  PartitionLag,
  RetryDisposition,
  RetryInfo,
  SourceMessage,
  StreamSource,
} from './stream-source.ts';

/** Settings of the NATS JetStream adapter, from `streams.<name>.connection` and `.options`. */
export interface NatsSourceSettings {
  readonly servers: string[];
  readonly durable: string;
  readonly ackWaitMs: number;
  /** Server-side redelivery cap; -1 (default) leaves it to Larder's maxAttempts + DLQ. */
  readonly maxDeliver: number;
  readonly maxAckPending: number;
  readonly dlqStream: string;
  readonly dlqSubject: string;
}

export function natsSettings(def: StreamDef, topic: string, consumer: ConsumerOptions): NatsSourceSettings {
  const o = readNatsOptions(def);
  const servers = def.connection.servers ?? def.connection.url ?? 'nats://127.0.0.1:4222';
  const list = (Array.isArray(servers) ? servers : String(servers).split(',')).map((s) => String(s).trim());
  return {
    servers: list,
    durable: o.durable ?? `${def.group}_${topic}`.replace(/[^A-Za-z0-9_-]/g, '_'),
    ackWaitMs: o.ackWaitMs ?? 30_000,
    maxDeliver: o.maxDeliver ?? -1,
    maxAckPending: o.maxAckPending ?? Math.max(1_000, consumer.maxInFlight * 2),
    dlqStream: o.dlqStream ?? 'LARDER_DLQ',
    dlqSubject: o.dlqSubject ?? `larder.dlq.${def.name}.${topic}`,
  };
}

/** What the adapter remembers about a failing message between its deliveries (NATS naks carry no headers). */
interface FailureMemory {
  readonly firstFailureAt: number;
  readonly lastError: string;
}

/**
 * NATS JetStream source: a durable pull consumer with explicit acks, filtered on the topic subject.
 *
 * - Messages are pulled continuously (`consume`) into a bounded buffer; `fetch` takes from it.
 * - A retry is a `nak(delay)`: the server redelivers after the backoff tier. Attempts are the
 *   delivery count minus one, so crash redeliveries count too.
 * - Dead letters are published (and acknowledged by the server) to `dlqSubject` in `dlqStream`,
 *   created when missing, before the original is acked.
 * - Slow messages get `working()` (in-progress acks) so `ackWait` does not expire under them.
 * - Acks are fire-and-forget publishes, flushed once per micro-batch.
 */
export class NatsJetStreamSource implements StreamSource {
  readonly id: string;
  readonly stream: string;
  readonly topic: string;
  readonly commitMode = 'per-message' as const;
  readonly touchIntervalMs: number;
  readonly #settings: NatsSourceSettings;
  readonly #bufferMax: number;
  readonly #failures = new Map<number, FailureMemory>();
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;
  #jsStream = '';
  #messages: ConsumerMessages | undefined;
  #buffer: JsMsg[] = [];
  #wakeFetch: (() => void) | undefined;
  #wakePump: (() => void) | undefined;
  #pump: Promise<void> | undefined;
  #draining = false;

  constructor(def: StreamDef, topic: string, settings: NatsSourceSettings, consumer: ConsumerOptions) {
    this.stream = def.name;
    this.topic = topic;
    this.#settings = settings;
    this.#bufferMax = Math.max(consumer.fetchMax * 2, 256);
    this.id = `nats:${def.name}/${topic}`;
    this.touchIntervalMs = Math.max(200, Math.floor(settings.ackWaitMs / 3));
  }

  async start(): Promise<void> {
    const s = this.#settings;
    try {
      this.#nc = await connect({ servers: s.servers, name: `larder-${this.stream}` });
      this.#jsm = await jetstreamManager(this.#nc);
      this.#js = jetstream(this.#nc);
      this.#jsStream = await this.#jsm.streams.find(this.topic);
      await this.#jsm.consumers.add(this.#jsStream, {
        durable_name: s.durable,
        filter_subject: this.topic,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(s.ackWaitMs),
        max_deliver: s.maxDeliver,
        max_ack_pending: s.maxAckPending,
      });
      await ensureDlqStream(this.#jsm, s);
      const consumer = await this.#js.consumers.get(this.#jsStream, s.durable);
      this.#messages = await consumer.consume({ max_messages: this.#bufferMax });
    } catch (err) {
      await this.close();
      throw new LarderError(
        'LARDER_ERR_STREAM_CONNECTION',
        `NATS JetStream subject ${this.topic} at ${s.servers.join(',')}: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    this.#pump = this.#pumpMessages(this.#messages);
  }

  /** Moves messages from the library's iterator into the buffer, pausing while the buffer is full. */
  async #pumpMessages(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const msg of messages) {
        this.#buffer.push(msg);
        this.#wakeFetch?.();
        while (this.#buffer.length >= this.#bufferMax && !this.#draining) {
          await new Promise<void>((resolve) => (this.#wakePump = resolve));
        }
        if (this.#draining) break;
      }
    } catch {
      // The iterator ends with an error when the connection closes; fetch then returns [].
    }
  }

  async fetch(request: FetchRequest): Promise<SourceMessage[]> {
    if (this.#draining) return [];
    if (this.#buffer.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, request.waitMs);
        this.#wakeFetch = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wakeFetch = undefined;
    }
    const taken = this.#buffer.splice(0, request.max);
    this.#wakePump?.();
    return taken.map((msg) => this.#toMessage(msg));
  }

  #toMessage(msg: JsMsg): SourceMessage {
    const h = msg.headers;
    const carried =
      h === undefined ? { attempts: 0 } : readHeaders((name) => (h.has(name) ? h.get(name) : undefined));
    const seq = msg.info.streamSequence;
    const memory = this.#failures.get(seq);
    const headers = {
      ...carried,
      attempts: Math.max(carried.attempts, msg.info.deliveryCount - 1),
      ...(memory === undefined ? {} : { firstFailureAt: memory.firstFailureAt, lastError: memory.lastError }),
    };
    return {
      partition: this.#jsStream,
      offset: String(seq),
      epoch: 0,
      key: undefined,
      payload: msg.data,
      headers,
      publishedAt: Math.floor(Number(msg.info.timestampNanos) / 1_000_000),
      handle: msg,
    };
  }

  async ack(messages: readonly SourceMessage[]): Promise<void> {
    if (messages.length === 0) return;
    for (const m of messages) {
      (m.handle as JsMsg).ack();
      this.#failures.delete(Number(m.offset));
    }
    await this.#nc!.flush();
  }

  async commit(): Promise<void> {
    // Per-message broker: acks are the commit.
  }

  async retry(message: SourceMessage, info: RetryInfo): Promise<RetryDisposition> {
    const seq = Number(message.offset);
    if (this.#failures.size >= 10_000) this.#failures.delete(this.#failures.keys().next().value as number);
    this.#failures.set(seq, { firstFailureAt: info.firstFailureAt, lastError: info.error });
    (message.handle as JsMsg).nak(info.delayMs);
    await this.#nc!.flush();
    return 'redelivery';
  }

  async deadLetter(message: SourceMessage, info: FailureInfo): Promise<void> {
    const h = natsHeaders();
    for (const [name, value] of Object.entries(deadLetterHeaders(message, this.stream, info))) {
      h.set(name, value);
    }
    const data =
      typeof message.payload === 'string' ? new TextEncoder().encode(message.payload) : message.payload;
    await this.#js!.publish(this.#settings.dlqSubject, data, { headers: h });
  }

  isCurrent(): boolean {
    return true; // a redelivered message may be processed twice; writes are idempotent
  }

  async touch(messages: readonly SourceMessage[]): Promise<void> {
    for (const m of messages) (m.handle as JsMsg).working();
    await this.#nc!.flush();
  }

  async lag(): Promise<PartitionLag[]> {
    const info = await this.#jsm!.consumers.info(this.#jsStream, this.#settings.durable);
    return [{ partition: this.#jsStream, messages: info.num_pending + info.num_ack_pending }];
  }

  async drain(): Promise<void> {
    this.#draining = true;
    this.#wakePump?.();
    this.#wakeFetch?.();
    await this.#messages?.close().catch(() => undefined);
    // Hand back what was buffered but never started, so it is redelivered at once, not after ackWait.
    for (const msg of this.#buffer.splice(0)) msg.nak();
  }

  async close(): Promise<void> {
    if (!this.#draining) await this.drain();
    await this.#pump;
    if (this.#nc !== undefined && !this.#nc.isClosed()) await this.#nc.drain().catch(() => this.#nc?.close());
  }
}

async function ensureDlqStream(jsm: JetStreamManager, s: NatsSourceSettings): Promise<void> {
  try {
    const owner = await jsm.streams.find(s.dlqSubject);
    if (owner !== '') return;
  } catch {
    // no stream captures the DLQ subject yet
  }
  try {
    const info = await jsm.streams.info(s.dlqStream);
    const subjects = new Set(info.config.subjects ?? []);
    subjects.add(s.dlqSubject);
    await jsm.streams.update(s.dlqStream, { subjects: [...subjects] });
  } catch {
    await jsm.streams.add({ name: s.dlqStream, subjects: [s.dlqSubject] });
  }
}

export function createNatsSources(def: StreamDef, topic: string, consumer: ConsumerOptions): StreamSource[] {
  return [new NatsJetStreamSource(def, topic, natsSettings(def, topic, consumer), consumer)];
}

/** The dead letters of one NATS topic: the messages on its DLQ subject in the DLQ stream. */
export function openNatsDeadLetters(
  def: StreamDef,
  topic: string,
  consumer?: ConsumerOptions,
): BrokerDeadLetterQueue {
  const settings = natsSettings(def, topic, consumer ?? ({ maxInFlight: 1000 } as ConsumerOptions));
  let opened: Promise<{ nc: NatsConnection; jsm: JetStreamManager; js: JetStreamClient }> | undefined;
  const open = () =>
    (opened ??= (async () => {
      const nc = await connect({ servers: settings.servers });
      return { nc, jsm: await jetstreamManager(nc), js: jetstream(nc) };
    })());
  const read = async (seq: number): Promise<BrokerDeadLetter | undefined> => {
    const { jsm } = await open();
    const stored = await jsm.streams.getMessage(settings.dlqStream, { seq }).catch(() => null);
    if (stored === null || stored.subject !== settings.dlqSubject) return undefined;
    const headers: Record<string, string> = {};
    for (const [name, values] of stored.header ?? [])
      if (name.startsWith('larder-')) headers[name] = values[0] ?? '';
    const deadAt = Number(headers[HEADER.deadAt]);
    return {
      id: String(stored.seq),
      payload: new TextDecoder().decode(stored.data),
      headers,
      deadAt: Number.isFinite(deadAt) ? deadAt : undefined,
    };
  };
  const scan = async (after: number, limit: number): Promise<BrokerDeadLetter[]> => {
    const { jsm } = await open();
    const state = (await jsm.streams.info(settings.dlqStream)).state;
    const out: BrokerDeadLetter[] = [];
    for (
      let seq = Math.max(after + 1, state.first_seq);
      seq <= state.last_seq && out.length < limit;
      seq += 1
    ) {
      const letter = await read(seq);
      if (letter !== undefined) out.push(letter);
    }
    return out;
  };
  return {
    location: `${settings.servers.join(',')}/${settings.dlqStream}/${settings.dlqSubject}`,
    list: (options) => scan(Number(options?.after ?? 0), options?.limit ?? 100),
    get: (id) => read(Number(id)),
    async count() {
      const { jsm } = await open();
      const info = await jsm.streams.info(settings.dlqStream, { subjects_filter: settings.dlqSubject });
      return info.state.subjects?.[settings.dlqSubject] ?? 0;
    },
    async replay(ids) {
      const { jsm, js } = await open();
      const replayed: string[] = [];
      for (const id of ids) {
        const letter = await read(Number(id));
        if (letter === undefined)
          throw new LarderError('LARDER_ERR_DLQ_NOT_FOUND', `no dead letter ${id} on ${settings.dlqSubject}`);
        const h = natsHeaders();
        for (const name of [
          HEADER.originStream,
          HEADER.originPartition,
          HEADER.originOffset,
          HEADER.originPublishedAt,
        ]) {
          const value = letter.headers[name];
          if (value !== undefined) h.set(name, value);
        }
        await js.publish(topic, new TextEncoder().encode(letter.payload), { headers: h });
        await jsm.streams.deleteMessage(settings.dlqStream, Number(id));
        replayed.push(id);
      }
      return replayed;
    },
    async close() {
      if (opened !== undefined) await (await opened).nc.drain().catch(() => undefined);
    },
  };
}

/** Publishes events to a JetStream subject (the topic), each acknowledged by the server. */
export function createNatsPublisher(def: StreamDef): TopicPublisher {
  const servers = natsSettings(def, '', DEFAULT_CONSUMER_OPTIONS).servers;
  let opened: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;
  const open = () =>
    (opened ??= (async () => {
      const nc = await connect({ servers, name: `larder-${def.name}-publisher` });
      return { nc, js: jetstream(nc) };
    })());
  return {
    async publish(topic, events) {
      const { js } = await open();
      const encoder = new TextEncoder();
      await Promise.all(events.map((event) => js.publish(topic, encoder.encode(event.payload))));
    },
    async close() {
      if (opened === undefined) return;
      const { nc } = await opened.catch(() => ({ nc: undefined }));
      await nc?.close().catch(() => undefined);
    },
  };
}
