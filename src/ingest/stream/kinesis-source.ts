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
import { acquireCheckpointStore, type CheckpointStore } from './kinesis-checkpoints.ts';
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
}

export function kinesisSettings(def: StreamDef): KinesisSettings {
  const c = def.connection;
  const options = readKinesisOptions(def);
  const accessKeyId = optionalString(c.accessKeyId, `streams.${def.name}.connection.accessKeyId`);
  const secretAccessKey = optionalString(c.secretAccessKey, `streams.${def.name}.connection.secretAccessKey`);
  const retry = options.retryStream;
  const dlq = options.dlqStream;
  return {
    endpoint: optionalString(c.endpoint, `streams.${def.name}.connection.endpoint`),
    region: optionalString(c.region, `streams.${def.name}.connection.region`) ?? 'us-east-1',
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? { accessKeyId, secretAccessKey }
        : undefined,
    group: def.group,
    startFrom: options.startFrom === 'latest' ? 'LATEST' : 'TRIM_HORIZON',
    retryStream: (topic) => retry ?? `${topic}-retry`,
    dlqStream: (topic) => dlq ?? `${topic}-dlq`,
  };
}

interface ShardState {
  readonly id: string;
  readonly epoch: number;
  iterator: string | undefined;
  /** Last sequence fetched, and whether the shard is closed (resharded) with nothing left to read. */
  lastFetched: string | undefined;
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
 * Kinesis source: one GetRecords loop over every open shard of the stream, in this process.
 *
 * - Positions are durable, forward-only checkpoints (`kinesis-checkpoints.ts`): the core commits
 *   the contiguous watermark per shard, and a restart resumes AFTER_SEQUENCE_NUMBER.
 * - Resharding is handled: a closed shard (no next iterator) is marked ended once its last record
 *   is committed, and a child shard starts only when all its parents have ended, so the order of
 *   an entity's events survives a split or merge.
 * - Retries go, wrapped in a small JSON envelope with the headers, to `<stream>-retry`, read by a
 *   second source; dead letters to `<stream>-dlq`. Both are created (1 shard) when missing.
 * - Partial: there is no lease table, so one process consumes a stream; two `larder ingest`
 *   processes on one Kinesis stream would both read every shard (duplicates, absorbed by
 *   idempotent writes, but wasted work).
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
  #checkpoints: { store: CheckpointStore; release(): Promise<void> } | undefined;
  readonly #shards = new Map<string, ShardState>();
  #next = 0;
  #lastListAt = 0;
  #draining = false;

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
    this.#checkpoints = acquireCheckpointStore(this.#dataDir);
    try {
      await this.#client.send(new DescribeStreamSummaryCommand({ StreamName: this.topic }));
      await this.#ensureStream(s.retryStream(this.topic));
      await this.#ensureStream(s.dlqStream(this.topic));
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

  #key(shardId: string): string {
    return `${this.#settings.group}/${this.#readStream}/${shardId}`;
  }

  /** Lists shards and starts those whose parents have all ended (or are gone from the stream). */
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
    const known = new Set(shards.map((sh) => sh.ShardId));
    const ended = (id: string | undefined): boolean =>
      id === undefined || !known.has(id) || this.#checkpoints?.store.get(this.#key(id))?.ended === true;
    for (const shard of shards) {
      const id = shard.ShardId!;
      if (this.#shards.has(id) || this.#checkpoints?.store.get(this.#key(id))?.ended === true) continue;
      if (!(ended(shard.ParentShardId) && ended(shard.AdjacentParentShardId))) continue;
      this.#shards.set(id, {
        id,
        epoch: ++epochs,
        iterator: undefined,
        lastFetched: undefined,
        closed: false,
        millisBehind: undefined,
      });
    }
  }

  async fetch(request: FetchRequest): Promise<SourceMessage[]> {
    if (this.#checkpoints === undefined) return [];
    if (Date.now() - this.#lastListAt > 10_000) await this.#refreshShards();
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
      // In this run, continue after what was fetched; after a restart, after the checkpoint.
      const checkpoint = shard.lastFetched ?? this.#checkpoints!.store.get(this.#key(shard.id))?.sequence;
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
      // Nothing fetched from it in this run, or all of it already committed: it ends now.
      const committed = this.#checkpoints!.store.get(this.#key(shard.id))?.sequence;
      if (records.length === 0 && (shard.lastFetched === undefined || shard.lastFetched === committed))
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
    await this.#checkpoints!.store.advance(this.#key(shard.id), undefined, true);
    this.#shards.delete(shard.id);
    this.#lastListAt = 0; // children may start now
  }

  async ack(): Promise<void> {
    // Watermark broker: positions move through commit.
  }

  async commit(partition: string, offset: string, epoch: number): Promise<void> {
    if (!this.isCurrent(partition, epoch)) return;
    await this.#checkpoints!.store.advance(this.#key(partition), offset);
    const shard = this.#shards.get(partition);
    if (shard !== undefined && shard.closed && shard.lastFetched === offset) await this.#end(shard);
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
    this.#client?.destroy();
    await this.#checkpoints?.release();
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
