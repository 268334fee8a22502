import { Consumer, ListOffsetTimestamps, type KafkaRecord } from '@platformatic/kafka';
import type { KafkaSettings } from './kafka-settings.ts';

/** One record as fetched, with its absolute offset. */
export interface FetchedRecord {
  readonly offset: bigint;
  readonly timestamp: number;
  readonly value: Buffer | null;
  readonly headers: KafkaRecord['headers'];
}

/** What one partition's fetch brought: records from the asked offset on, and where to go next. */
export interface FetchedPartition {
  readonly partition: number;
  readonly records: FetchedRecord[];
  /** The offset to fetch next (past the last record, control and aborted batches included). */
  readonly next: bigint;
  /** The partition's high watermark when the broker answered. */
  readonly highWatermark: bigint;
}

const IS_CONTROL = 1 << 5; // record-batch attribute bit of transaction markers
const OFFSET_OUT_OF_RANGE = 1;

/**
 * Reads partitions at offsets the caller chooses, with no position of its own: the Kafka source
 * decides where each partition is read from, after every rebalance and every outage, instead of
 * relying on a message stream's positions (which outlive a rebalance, and which the client drops
 * for good after a few failed fetches).
 *
 * It is a separate client that never joins the group: its long-polling fetches do not queue up
 * behind (or delay) the member's heartbeats and commits, and a failure is returned at once
 * (no client-side retries), for the consumer core to log, count and retry with backoff.
 */
export class KafkaFetcher {
  readonly #client: Consumer;
  readonly #topic: string;

  constructor(settings: KafkaSettings, topic: string) {
    this.#topic = topic;
    this.#client = new Consumer({
      groupId: `${settings.group}.fetcher`, // required by the client; never joined
      clientId: `${settings.clientId}-fetcher`,
      bootstrapBrokers: settings.brokers,
      ...settings.security,
      retries: 0, // (its default isolation, READ_COMMITTED, skips aborted transactions)
    });
    this.#client.on('error', () => undefined);
  }

  /**
   * Fetches every listed partition from its offset, one request per leader, waiting up to
   * `waitMs` for data. Partitions whose offset fell out of the log are in `outOfRange`.
   */
  async fetch(
    wants: readonly { partition: number; offset: bigint }[],
    waitMs: number,
  ): Promise<{ partitions: FetchedPartition[]; outOfRange: number[] }> {
    const metadata = await this.#client.metadata({ topics: [this.#topic] });
    const topic = metadata.topics.get(this.#topic);
    if (topic === undefined) throw new Error(`Kafka topic ${this.#topic} has no metadata`);
    const byLeader = new Map<number, { partition: number; offset: bigint }[]>();
    for (const want of wants) {
      const leader = topic.partitions[want.partition]?.leader ?? -1;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), want]);
    }
    const partitions: FetchedPartition[] = [];
    const outOfRange: number[] = [];
    try {
      await Promise.all(
        [...byLeader].map(async ([node, list]) => {
          const response = await this.#client.fetch({
            node,
            maxWaitTime: Math.max(1, Math.round(waitMs)),
            minBytes: 1,
            maxBytes: 8 * 1024 * 1024,
            topics: [
              {
                topicId: topic.id,
                partitions: list.map((w) => ({
                  partition: w.partition,
                  fetchOffset: w.offset,
                  partitionMaxBytes: 1024 * 1024,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                })),
              },
            ],
          });
          const asked = new Map(list.map((w) => [w.partition, w.offset]));
          for (const t of response.responses)
            for (const p of t.partitions) partitions.push(decode(p, asked.get(p.partitionIndex) ?? 0n));
        }),
      );
    } catch (err) {
      // Per-partition errors fail the whole response; what went wrong decides what happens next.
      const failed = partitionErrors(err);
      if (failed.some((f) => f.errorCode !== OFFSET_OUT_OF_RANGE) || failed.length === 0) {
        this.#client.clearMetadata();
        throw err;
      }
      outOfRange.push(...failed.map((f) => f.partition));
    }
    return { partitions, outOfRange };
  }

  /** The earliest or latest offset of each partition. */
  async offsets(partitions: readonly number[], which: 'earliest' | 'latest'): Promise<Map<number, bigint>> {
    const listed = await this.#client.listOffsets({
      topics: [this.#topic],
      partitions: { [this.#topic]: [...partitions] },
      timestamp: which === 'earliest' ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST,
    });
    const all = listed.get(this.#topic) ?? [];
    return new Map(partitions.map((p) => [p, all[p] ?? 0n]));
  }

  async close(): Promise<void> {
    try {
      await this.#client.close(true);
    } catch {
      // already closed
    }
  }
}

function decode(
  p: {
    partitionIndex: number;
    highWatermark: bigint;
    records?: {
      firstOffset: bigint;
      lastOffsetDelta: number;
      firstTimestamp: bigint;
      attributes: number;
      records: KafkaRecord[];
    }[];
  },
  from: bigint,
): FetchedPartition {
  const records: FetchedRecord[] = [];
  let next = from;
  for (const batch of p.records ?? []) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (last + 1n > next) next = last + 1n;
    if ((batch.attributes & IS_CONTROL) !== 0) continue;
    for (const r of batch.records) {
      const offset = batch.firstOffset + BigInt(r.offsetDelta);
      // A batch may start before the asked offset (the broker sends whole batches).
      if (offset < from) continue;
      records.push({
        offset,
        timestamp: Number(batch.firstTimestamp + r.timestampDelta),
        value: r.value,
        headers: r.headers,
      });
    }
  }
  return { partition: p.partitionIndex, records, next, highWatermark: p.highWatermark };
}

function partitionErrors(err: unknown): { partition: number; errorCode: number }[] {
  const response = (err as { response?: unknown; errors?: { response?: unknown }[] }).response;
  const found = (response ?? (err as { errors?: { response?: unknown }[] }).errors?.[0]?.response) as
    { responses?: { partitions: { partitionIndex: number; errorCode: number }[] }[] } | undefined;
  const out: { partition: number; errorCode: number }[] = [];
  for (const t of found?.responses ?? [])
    for (const p of t.partitions)
      if (p.errorCode !== 0) out.push({ partition: p.partitionIndex, errorCode: p.errorCode });
  return out;
}
