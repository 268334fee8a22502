import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  ResourceNotFoundException,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LarderError } from '../../errors.ts';
import type { StreamDef } from '../../registry/types.ts';
import { optionalString, readKinesisOptions, type ConsumerOptions } from '../../registry/stream-options.ts';
import { deadLetterHeaders, readHeaders, retryHeaders } from './delivery-headers.ts';
import { acquireCheckpointStore } from './kinesis-checkpoints.ts';
import { LocalShardCoordinator, type ShardCoordinator } from './kinesis-coordinator.ts';
import { LeaseCoordinator, type LeaseSettings } from './kinesis-leases.ts';
import type { TopicPublisher } from './topic-publisher.ts';
import {
  payloadText,
  type FailureInfo,
  type FetchRequest,
  type PartitionLag,
  type RetryDisposition,
  type RetryInfo,
  type SourceContext,
  type SourceMessage,
  type StreamSource,
} from './stream-source.ts';

export interface KinesisSettings {
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  readonly group: string;
  readonly startFrom: 'TRIM_HORIZON' | 'LATEST';
  readonly retryStream: (topic: string) => string;
  readonly dlqStream: (topic: string) => string;
  /** Shard leases in DynamoDB (several processes share the shards); undefined: local, one process. */
  readonly leases: LeaseSettings | undefined;
}

/** Default `leaseDuration`: how long a dead process's shards wait before another one takes them. */
export const DEFAULT_LEASE_DURATION_MS = 10_000;

export function kinesisSettings(def: StreamDef): KinesisSettings {
  const c = def.connection;
  const options = readKinesisOptions(def);
  const accessKeyId = optionalString(c.accessKeyId, `streams.${def.name}.connection.accessKeyId`);
  const secretAccessKey = optionalString(c.secretAccessKey, `streams.${def.name}.connection.secretAccessKey`);
  const retry = options.retryStream;
  const dlq = options.dlqStream;
  const region = optionalString(c.region, `streams.${def.name}.connection.region`) ?? 'us-east-1';
  const credentials =
    accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey } : undefined;
  return {
    endpoint: optionalString(c.endpoint, `streams.${def.name}.connection.endpoint`),
    region,
    credentials,
    leases:
      options.leaseTable === undefined
        ? undefined
        : {
            table: options.leaseTable,
            endpoint: optionalString(c.leaseEndpoint, `streams.${def.name}.connection.leaseEndpoint`),
            region,
            credentials,
            leaseDurationMs: options.leaseDuration ?? DEFAULT_LEASE_DURATION_MS,
          },
    group: def.group,
    startFrom: options.startFrom === 'latest' ? 'LATEST' : 'TRIM_HORIZON',
    retryStream: (topic) => retry ?? `${topic}-retry`,
    dlqStream: (topic) => dlq ?? `${topic}-dlq`,
  };
}

interface ShardState {
  readonly id: string;
  readonly epoch: number;
  /** Where reading starts: after this sequence (the durable checkpoint when the shard was granted). */
  readonly checkpoint: string | undefined;
  iterator: string | undefined;
  /** Last sequence fetched, and whether the shard is closed (resharded) with nothing left to read. */
  lastFetched: string | undefined;
  /** Last sequence committed since the shard was granted. */
  committed: string | undefined;
  closed: boolean;
  millisBehind: number | undefined;
}

/** Retry and dead-letter records wrap the original bytes, since Kinesis records carry no headers. */
interface Envelope {
  readonly larder: Record<string, string>;
  readonly payload: string;
}

let epochs = 0;

/**
 * Kinesis source: one GetRecords loop over the open shards of the stream this process reads.
 *
 * - Which shards, and where positions live, is the coordinator's (`kinesis-coordinator.ts`). By
 *   default every shard, with durable forward-only checkpoints in LMDB (`kinesis-checkpoints.ts`):
 *   one process per stream. With `options.leaseTable`, shard leases and checkpoints in DynamoDB
 *   (`kinesis-leases.ts`): several processes share the shards, and take over a dead one's after
 *   `leaseDuration`. Either way the core commits the contiguous watermark per shard, and a shard
 *   resumes AFTER_SEQUENCE_NUMBER of its checkpoint.
 * - Resharding is handled: a closed shard (no next iterator) is marked ended once its last record
 *   is committed, and a child shard starts only when all its parents have ended, so the order of
 *   an entity's events survives a split or merge.
 * - Retries go, wrapped in a small JSON envelope with the headers, to `<stream>-retry`, read by a
 *   second source; dead letters to `<stream>-dlq`. Both are created (1 shard) when missing.
 */
export class KinesisSource implements StreamSource {
  readonly id: string;
  readonly stream: string;
  readonly topic: string;
  readonly commitMode = 'watermark' as const;
  readonly #settings: KinesisSettings;
  readonly #readStream: string;
  readonly #isRetry: boolean;
  readonly #dataDir: string;
  #client: KinesisClient | undefined;
  #coordinator: ShardCoordinator | undefined;
  readonly #shards = new Map<string, ShardState>();
  #next = 0;
  #lastListAt = 0;
  #draining = false;
  /** Lease mode: the timer that renews and balances leases, and its last failure (thrown by fetch). */
  #leaseTimer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #leaseError: unknown;

  constructor(def: StreamDef, topic: string, settings: KinesisSettings, dataDir: string, isRetry: boolean) {
    this.stream = def.name;
    this.topic = topic;
    this.#settings = settings;
    this.#isRetry = isRetry;
    this.#readStream = isRetry ? settings.retryStream(topic) : topic;
    this.#dataDir = dataDir;
    this.id = `kinesis:${def.name}/${this.#readStream}`;
  }

  async start(): Promise<void> {
    const s = this.#settings;
    this.#client = new KinesisClient({
      region: s.region,
      ...(s.endpoint === undefined ? {} : { endpoint: s.endpoint }),
      ...(s.credentials === undefined ? {} : { credentials: s.credentials }),
      requestHandler: new NodeHttpHandler(),
    });
    try {
      await this.#client.send(new DescribeStreamSummaryCommand({ StreamName: this.topic }));
      await this.#ensureStream(s.retryStream(this.topic));
      await this.#ensureStream(s.dlqStream(this.topic));
      const prefix = `${this.#settings.group}/${this.#readStream}`;
      if (s.leases === undefined) {
        const checkpoints = acquireCheckpointStore(this.#dataDir);
        this.#coordinator = new LocalShardCoordinator(checkpoints.store, `${prefix}/`, checkpoints.release);
      } else {
        this.#coordinator = await LeaseCoordinator.open(s.leases, prefix);
        // Renewals must not wait for a fetch: a busy consumer fetches seldom.
        this.#leaseTimer = setInterval(() => this.#refreshInBackground(), s.leases.leaseDurationMs / 4);
        this.#leaseTimer.unref();
      }
      await this.#refreshShards();
    } catch (err) {
      await this.close();
      throw new LarderError(
        'LARDER_ERR_STREAM_CONNECTION',
        `Kinesis stream ${this.#readStream}: ${String(err)}`,
        { cause: err },
      );
    }
  }

  async #ensureStream(name: string): Promise<void> {
    try {
      await this.#client!.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      return;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    await this.#client!.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 })).catch(
      () => undefined,
    );
    for (let i = 0; i < 100; i += 1) {
      const d = await this.#client!.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  #refreshInBackground(): void {
    const coordinator = this.#coordinator;
    if (coordinator instanceof LeaseCoordinator)
      for (const id of coordinator.lapsed()) this.#shards.delete(id); // the others count it expired now
    if (this.#refreshing !== undefined) return;
    // Draining: keep the leases alive until the last commits are in, but take no new shard.
    const refresh =
      this.#draining && coordinator instanceof LeaseCoordinator
        ? coordinator.renewAll().then((lost) => {
            for (const id of lost) this.#shards.delete(id);
          })
        : this.#refreshShards();
    this.#refreshing = refresh
      .then(
        () => {
          this.#leaseError = undefined;
        },
        (err: unknown) => {
          this.#leaseError = err;
        },
      )
      .finally(() => {
        this.#refreshing = undefined;
      });
  }

  /** Lists shards; the coordinator says which to start (their parents ended) and which to stop. */
  async #refreshShards(): Promise<void> {
    this.#lastListAt = Date.now();
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const page = await this.#client!.send(
        new ListShardsCommand(token === undefined ? { StreamName: this.#readStream } : { NextToken: token }),
      );
      shards.push(...(page.Shards ?? []));
      token = page.NextToken;
    } while (token !== undefined);
    const { start, stop } = await this.#coordinator!.assign(shards, new Set(this.#shards.keys()));
    for (const id of stop) this.#shards.delete(id); // its in-flight results are fenced (isCurrent)
    for (const { id, checkpoint } of start) {
      this.#shards.set(id, {
        id,
        epoch: ++epochs,
        checkpoint,
        iterator: undefined,
        lastFetched: undefined,
        committed: checkpoint,
        closed: false,
        millisBehind: undefined,
      });
    }
  }

  async fetch(request: FetchRequest): Promise<SourceMessage[]> {
    if (this.#coordinator === undefined) return [];
    if (this.#leaseError !== undefined) {
      const err = this.#leaseError;
      this.#leaseError = undefined;
      throw err; // counted and retried by the consumer core, like any failed fetch
    }
    if (this.#leaseTimer === undefined && Date.now() - this.#lastListAt > 10_000) await this.#refreshShards();
    const open = [...this.#shards.values()].filter((sh) => !sh.closed);
    for (let tried = 0; tried < open.length && !this.#draining; tried += 1) {
      const shard = open[this.#next++ % open.length]!;
      const messages = await this.#read(shard, request.max);
      if (messages.length > 0) return messages;
    }
    if (!this.#draining) await new Promise((r) => setTimeout(r, Math.min(request.waitMs, 200)));
    return [];
  }

  async #read(shard: ShardState, max: number): Promise<SourceMessage[]> {
    const client = this.#client!;
    if (shard.iterator === undefined) {
      // Continue after what was fetched; else after the checkpoint the shard was granted with.
      const checkpoint = shard.lastFetched ?? shard.checkpoint;
      const it = await client.send(
        new GetShardIteratorCommand({
          StreamName: this.#readStream,
          ShardId: shard.id,
          ...(checkpoint === undefined
            ? { ShardIteratorType: this.#isRetry ? 'TRIM_HORIZON' : this.#settings.startFrom }
            : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: checkpoint }),
        }),
      );
      shard.iterator = it.ShardIterator;
    }
    let out;
    try {
      out = await client.send(
        new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: Math.min(max, 10_000) }),
      );
    } catch (err) {
      shard.iterator = undefined; // expired or invalid: the next read asks for a fresh one
      throw err;
    }
    shard.iterator = out.NextShardIterator;
    shard.millisBehind = out.MillisBehindLatest;
    const records = out.Records ?? [];
    if (records.length > 0) shard.lastFetched = records[records.length - 1]!.SequenceNumber;
    if (out.NextShardIterator === undefined || out.NextShardIterator === null) {
      shard.closed = true;
      // Nothing fetched from it since it was granted, or all of it already committed: it ends now.
      if (records.length === 0 && (shard.lastFetched === undefined || shard.lastFetched === shard.committed))
        await this.#end(shard);
    }
    return records.map((r) =>
      this.#toMessage(shard, r.SequenceNumber!, r.Data!, r.ApproximateArrivalTimestamp),
    );
  }

  #toMessage(
    shard: ShardState,
    sequence: string,
    data: Uint8Array,
    arrival: Date | undefined,
  ): SourceMessage {
    const base = {
      partition: shard.id,
      offset: sequence,
      epoch: shard.epoch,
      key: undefined,
      publishedAt: arrival?.getTime(),
    };
    if (!this.#isRetry) return { ...base, payload: data, headers: { attempts: 0 } };
    try {
      const envelope = JSON.parse(payloadText(data)) as Envelope;
      return { ...base, payload: envelope.payload, headers: readHeaders((name) => envelope.larder[name]) };
    } catch {
      return { ...base, payload: data, headers: { attempts: 0 } };
    }
  }

  async #end(shard: ShardState): Promise<void> {
    await this.#coordinator!.advance(shard.id, undefined, true);
    this.#shards.delete(shard.id);
    this.#lastListAt = 0; // children may start now
    if (this.#leaseTimer !== undefined) this.#refreshInBackground();
  }

  async ack(): Promise<void> {
    // Watermark broker: positions move through commit.
  }

  async commit(partition: string, offset: string, epoch: number): Promise<void> {
    if (!this.isCurrent(partition, epoch)) return;
    const shard = this.#shards.get(partition)!;
    if (!(await this.#coordinator!.advance(partition, offset, false))) {
      // The lease went to another process: stop reading; it resumes from the last checkpoint.
      if (this.#shards.get(partition) === shard) this.#shards.delete(partition);
      return;
    }
    shard.committed = offset;
    if (shard.closed && shard.lastFetched === offset && this.#shards.get(partition) === shard)
      await this.#end(shard);
  }

  async retry(message: SourceMessage, info: RetryInfo): Promise<RetryDisposition> {
    await this.#publish(
      this.#settings.retryStream(this.topic),
      message,
      retryHeaders(message, this.stream, info),
    );
    return 'republished';
  }

  async deadLetter(message: SourceMessage, info: FailureInfo): Promise<void> {
    await this.#publish(
      this.#settings.dlqStream(this.topic),
      message,
      deadLetterHeaders(message, this.stream, info),
    );
  }

  async #publish(stream: string, message: SourceMessage, headers: Record<string, string>): Promise<void> {
    const envelope: Envelope = { larder: headers, payload: payloadText(message.payload) };
    await this.#client!.send(
      new PutRecordCommand({
        StreamName: stream,
        PartitionKey: message.headers.originOffset ?? message.offset,
        Data: Buffer.from(JSON.stringify(envelope)),
      }),
    );
  }

  isCurrent(partition: string, epoch: number): boolean {
    return this.#shards.get(partition)?.epoch === epoch;
  }

  async lag(): Promise<PartitionLag[]> {
    return [...this.#shards.values()].map((sh) => ({
      partition: sh.id,
      messages: undefined,
      ...(sh.millisBehind === undefined ? {} : { millis: sh.millisBehind }),
    }));
  }

  async drain(): Promise<void> {
    this.#draining = true;
  }

  async close(): Promise<void> {
    this.#draining = true;
    if (this.#leaseTimer !== undefined) clearInterval(this.#leaseTimer);
    await this.#refreshing;
    this.#client?.destroy();
    await this.#coordinator?.close(); // lease mode: releases the leases, so others take them at once
    this.#coordinator = undefined;
  }
}

export function createKinesisSources(
  def: StreamDef,
  topic: string,
  _options: ConsumerOptions,
  context: SourceContext,
): StreamSource[] {
  const settings = kinesisSettings(def);
  return [
    new KinesisSource(def, topic, settings, context.dataDir, false),
    new KinesisSource(def, topic, settings, context.dataDir, true),
  ];
}

/** The most records one PutRecords call takes. */
const PUT_RECORDS_MAX = 500;

/**
 * Publishes events to a Kinesis stream (the topic) with PutRecords, keyed by each event's key. A
 * batch with records Kinesis refused fails as a whole; the caller publishes it again (the events
 * carry their ids, so the records written twice are absorbed downstream).
 */
export function createKinesisPublisher(def: StreamDef): TopicPublisher {
  const s = kinesisSettings(def);
  const client = new KinesisClient({
    region: s.region,
    ...(s.endpoint === undefined ? {} : { endpoint: s.endpoint }),
    ...(s.credentials === undefined ? {} : { credentials: s.credentials }),
    requestHandler: new NodeHttpHandler(),
  });
  return {
    async publish(topic, events) {
      for (let i = 0; i < events.length; i += PUT_RECORDS_MAX) {
        const batch = events.slice(i, i + PUT_RECORDS_MAX);
        const answer = await client.send(
          new PutRecordsCommand({
            StreamName: topic,
            Records: batch.map((e) => ({ PartitionKey: e.key, Data: Buffer.from(e.payload) })),
          }),
        );
        if ((answer.FailedRecordCount ?? 0) > 0) {
          const first = answer.Records?.find((r) => r.ErrorCode !== undefined);
          throw new LarderError(
            'LARDER_ERR_STREAM_CONNECTION',
            `Kinesis refused ${answer.FailedRecordCount} of ${batch.length} records on ${topic}: ${first?.ErrorCode ?? ''} ${first?.ErrorMessage ?? ''}`,
          );
        }
      }
    },
    async close() {
      client.destroy();
    },
  };
}
