/**
 * The `StreamSource` contract: the narrow interface between the engine-agnostic consumer core
 * (`consumer.ts`) and one broker (Redis Streams, NATS JetStream, Kinesis, Kafka). Only the adapter
 * that implements it imports its broker's client library; the core never does.
 *
 * Lifecycle: `start()` once, then any number of `fetch()` calls, each returned message settled
 * exactly once through `ack` / `retry` / `deadLetter` (possibly out of order, from many concurrent
 * tasks), then `drain()` (stop fetching, let in-flight settle) and `close()`.
 *
 * Two commit models exist, and the core handles both:
 * - `per-message` brokers (Redis Streams, NATS JetStream) acknowledge each message by id. Unacked
 *   messages are redelivered after a crash.
 * - `watermark` brokers (Kafka, Kinesis) store one position per partition. The core folds
 *   out-of-order completions into a contiguous watermark (`offset-tracker.ts`) and calls `commit`
 *   with the highest offset below which every message has finished.
 */

/** Delivery metadata carried by a message, including what a retry or dead-letter hop added. */
export interface DeliveryHeaders {
  /** Failed processing attempts before this delivery (0 on a first delivery). */
  readonly attempts: number;
  /** Where the message was first published (for a retried or replayed message). */
  readonly originStream?: string;
  readonly originPartition?: string;
  readonly originOffset?: string;
  /** Epoch ms of the first failed attempt. */
  readonly firstFailureAt?: number;
  /** The error of the last failed attempt. */
  readonly lastError?: string;
  /** Epoch ms before which a retried message must not be processed (retry tiers). */
  readonly dueAt?: number;
  /** Broker time of the original publication, kept so a retried event keeps its arrival time. */
  readonly originPublishedAt?: number;
}

/** One message as fetched from a broker. Plain data, except `handle` which the adapter owns. */
export interface SourceMessage {
  /** Partition / shard / stream key this message was read from (`0`, `shardId-000`, `events`). */
  readonly partition: string;
  /** Broker position as text: a Redis entry id, a Kafka offset, a Kinesis sequence number... */
  readonly offset: string;
  /** The assignment epoch of `partition` when the message was fetched (see `isCurrent`). */
  readonly epoch: number;
  /** Broker-level key (Kafka key, Kinesis partition key) when there is one; else undefined. */
  readonly key: string | undefined;
  /** The event bytes (JSON text). */
  readonly payload: Uint8Array | string;
  readonly headers: DeliveryHeaders;
  /** Epoch ms at which the broker stored the message, when it says; used for freshness/lag. */
  readonly publishedAt: number | undefined;
  /** Adapter-private state (a NATS `JsMsg`, ...). The core passes it back untouched. */
  readonly handle?: unknown;
}

export interface FetchRequest {
  /** Return at most this many messages. Always >= 1. */
  readonly max: number;
  /** Wait at most this long for the first message; resolve `[]` when nothing came. */
  readonly waitMs: number;
}

export interface FailureInfo {
  /** Attempts including the one that just failed (>= 1). */
  readonly attempts: number;
  /** Stable error code (`LARDER_ERR_*` or a short name) and a human message. */
  readonly code: string;
  readonly error: string;
  /** Epoch ms of the first failure of this message (now, on a first failure). */
  readonly firstFailureAt: number;
}

export interface RetryInfo extends FailureInfo {
  /** Process again no sooner than this (the backoff tier). */
  readonly delayMs: number;
}

/**
 * What `retry` did:
 * - `republished`: a copy went to a retry stream; the core must now `ack` the original.
 * - `redelivery`: the broker itself will redeliver it after the delay (NATS nak); do NOT ack it.
 */
export type RetryDisposition = 'republished' | 'redelivery';

export interface PartitionLag {
  readonly partition: string;
  /** Messages not yet consumed (or not yet acknowledged), when the broker can tell. */
  readonly messages: number | undefined;
  /** How far behind the head, in ms, when the broker can tell (Kinesis). */
  readonly millis?: number;
}

export interface StreamSource {
  /** Stable id for logs and metrics: `redis:client_event/client_event_cleansed`. */
  readonly id: string;
  /** Registry stream name and broker topic this source reads. */
  readonly stream: string;
  readonly topic: string;
  readonly commitMode: 'per-message' | 'watermark';

  /** Connects, creates the consumer group / durable consumer when missing, takes assignments. */
  start(): Promise<void>;

  /**
   * Fetches up to `max` messages. Messages a dead consumer of the same group left unacknowledged
   * are recovered here too (XAUTOCLAIM, redelivery). Resolves `[]` when nothing arrives in time.
   */
  fetch(request: FetchRequest): Promise<SourceMessage[]>;

  /**
   * Marks messages finished (written, filtered, rejected and dead-lettered, or republished for
   * retry), in any order. Per-message brokers acknowledge them; watermark brokers ignore this and
   * rely on `commit`.
   */
  ack(messages: readonly SourceMessage[]): Promise<void>;

  /** Watermark brokers: durably store `offset` as the last finished position of `partition`. */
  commit(partition: string, offset: string, epoch: number): Promise<void>;

  /** Schedules another attempt of a transiently failed message after `info.delayMs`. */
  retry(message: SourceMessage, info: RetryInfo): Promise<RetryDisposition>;

  /**
   * Publishes the message, with its headers and the reason, to the dead-letter stream. Resolves
   * once the dead letter is durable; the core acks the original only afterwards.
   */
  deadLetter(message: SourceMessage, info: FailureInfo): Promise<void>;

  /**
   * Fencing: false once `partition` was revoked or re-assigned since `epoch`. The core drops the
   * results of such messages (no ack, no commit, no retry publish): the new owner redoes them.
   */
  isCurrent(partition: string, epoch: number): boolean;

  /** Tells the broker that these messages are still being worked on (NATS `working()`, ...). */
  touch?(messages: readonly SourceMessage[]): Promise<void>;

  /** How often in-progress messages must be touched at the latest (NATS: a third of ackWait). */
  readonly touchIntervalMs?: number;

  /** Current lag per partition, for metrics. */
  lag(): Promise<PartitionLag[]>;

  /** Stops taking new work from the broker (fetch then resolves `[]`); in-flight may still settle. */
  drain(): Promise<void>;

  /** Releases connections. The source cannot be used afterwards. */
  close(): Promise<void>;
}

/** The text of a payload, whatever its representation. */
export function payloadText(payload: Uint8Array | string): string {
  return typeof payload === 'string'
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
}

/** What an adapter may need beyond its stream definition. */
export interface SourceContext {
  /** Larder's data directory, for adapters that keep their own checkpoints (Kinesis). */
  readonly dataDir: string;
}
