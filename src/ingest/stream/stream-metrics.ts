import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConsumerObserver, ConsumerOutcome } from './consumer-observer.ts';
import type { PartitionLag } from './stream-source.ts';

/**
 * Prometheus metrics of the stream consumers, on a registry of their own (`streamMetrics.registry`)
 * that the server merges into `/metrics`:
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `larder_stream_events_total` | counter | `source`, `outcome` (written, filtered, rejected, retried, dead_lettered, fenced) |
 * | `larder_stream_lag_messages` | gauge | `source`, `partition` (not yet consumed + not yet acked) |
 * | `larder_stream_lag_seconds` | gauge | `source`, `partition` (Kinesis: behind the shard head) |
 * | `larder_stream_freshness_seconds` | histogram | `source` (event time → visible in the store) |
 * | `larder_stream_batch_duration_seconds` | histogram | `source` (one micro-batch write) |
 * | `larder_stream_batch_size` | histogram | `source` |
 * | `larder_stream_concurrency` | gauge | `source` (adaptive limit) |
 * | `larder_stream_in_flight` | gauge | `source` (fetched, not finished) |
 * | `larder_stream_broker_errors_total` | counter | `source`, `operation` |
 *
 * Events/s by outcome is `rate(larder_stream_events_total[1m])`. Plain totals are kept too, for
 * tests, logs and the console.
 */
export class StreamMetrics implements ConsumerObserver {
  readonly registry: Registry;
  /** `source -> outcome -> count` since start. */
  readonly totals = new Map<string, Map<ConsumerOutcome, number>>();
  readonly #events: Counter<'source' | 'outcome'>;
  readonly #lag: Gauge<'source' | 'partition'>;
  readonly #lagSeconds: Gauge<'source' | 'partition'>;
  /** The partitions of each source's last lag reading. */
  readonly #lagPartitions = new Map<string, Set<string>>();
  readonly #freshness: Histogram<'source'>;
  readonly #freshnessBySource = new Map<string, Histogram.Internal<'source'>>();
  readonly #batchDuration: Histogram<'source'>;
  readonly #batchSize: Histogram<'source'>;
  readonly #concurrency: Gauge<'source'>;
  readonly #inFlight: Gauge<'source'>;
  readonly #brokerErrors: Counter<'source' | 'operation'>;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.#events = new Counter({
      name: 'larder_stream_events_total',
      help: 'Events consumed from brokers, by final outcome.',
      labelNames: ['source', 'outcome'],
      registers,
    });
    this.#lag = new Gauge({
      name: 'larder_stream_lag_messages',
      help: 'Messages not yet consumed or not yet acknowledged, per source partition.',
      labelNames: ['source', 'partition'],
      registers,
    });
    this.#lagSeconds = new Gauge({
      name: 'larder_stream_lag_seconds',
      help: 'How far the consumer is behind the head of the partition, when the broker tells.',
      labelNames: ['source', 'partition'],
      registers,
    });
    this.#freshness = new Histogram({
      name: 'larder_stream_freshness_seconds',
      help: 'Event time to visible in the online store.',
      labelNames: ['source'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      registers,
    });
    this.#batchDuration = new Histogram({
      name: 'larder_stream_batch_duration_seconds',
      help: 'Duration of one micro-batch ingest (durable store write included).',
      labelNames: ['source'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.#batchSize = new Histogram({
      name: 'larder_stream_batch_size',
      help: 'Events per micro-batch.',
      labelNames: ['source'],
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500],
      registers,
    });
    this.#concurrency = new Gauge({
      name: 'larder_stream_concurrency',
      help: 'Current adaptive limit on concurrent micro-batches.',
      labelNames: ['source'],
      registers,
    });
    this.#inFlight = new Gauge({
      name: 'larder_stream_in_flight',
      help: 'Messages fetched and not yet finished.',
      labelNames: ['source'],
      registers,
    });
    this.#brokerErrors = new Counter({
      name: 'larder_stream_broker_errors_total',
      help: 'Failed broker calls (each is retried), by operation.',
      labelNames: ['source', 'operation'],
      registers,
    });
  }

  outcome(source: string, outcome: ConsumerOutcome, count: number): void {
    this.#events.inc({ source, outcome }, count);
    const bySource = this.totals.get(source) ?? new Map<ConsumerOutcome, number>();
    bySource.set(outcome, (bySource.get(outcome) ?? 0) + count);
    this.totals.set(source, bySource);
  }

  freshness(source: string, ms: number): void {
    // Called once per written event: the labelled child is looked up once per source.
    let child = this.#freshnessBySource.get(source);
    if (child === undefined) {
      child = this.#freshness.labels(source);
      this.#freshnessBySource.set(source, child);
    }
    child.observe(Math.max(0, ms) / 1000);
  }

  batch(source: string, size: number, latencyMs: number, limit: number): void {
    this.#batchDuration.observe({ source }, latencyMs / 1000);
    this.#batchSize.observe({ source }, size);
    this.#concurrency.set({ source }, limit);
  }

  inFlight(source: string, count: number): void {
    this.#inFlight.set({ source }, count);
  }

  brokerError(source: string, operation: string): void {
    this.#brokerErrors.inc({ source, operation });
  }

  /**
   * One reading of a source's lag: the partitions it owns now. A partition it reported before and
   * not now (given to another group member in a rebalance) loses its series, so the gauge never
   * keeps a stale value for a partition this process no longer reads.
   */
  lag(source: string, lags: readonly PartitionLag[]): void {
    const now = new Set<string>();
    for (const lag of lags) {
      now.add(lag.partition);
      if (lag.messages !== undefined) this.#lag.set({ source, partition: lag.partition }, lag.messages);
      if (lag.millis !== undefined)
        this.#lagSeconds.set({ source, partition: lag.partition }, lag.millis / 1000);
    }
    for (const partition of this.#lagPartitions.get(source) ?? []) {
      if (now.has(partition)) continue;
      this.#lag.remove({ source, partition });
      this.#lagSeconds.remove({ source, partition });
    }
    this.#lagPartitions.set(source, now);
  }

  /** Total of one outcome over every source. */
  total(outcome: ConsumerOutcome): number {
    let sum = 0;
    for (const bySource of this.totals.values()) sum += bySource.get(outcome) ?? 0;
    return sum;
  }
}
