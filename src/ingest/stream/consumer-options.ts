import { LarderError } from '../../errors.ts';
import { parseDuration } from '../../registry/duration.ts';

/**
 * The consumer settings read from `streams.<name>.options` (see docs/streams.md). Every value has
 * a default; a wrong one fails fast at start with `LARDER_ERR_STREAM_OPTION` naming the key.
 */
export interface ConsumerOptions {
  /** Most messages fetched but not yet finished, per source. Bounds memory. */
  readonly maxInFlight: number;
  /** Most messages asked for in one fetch. */
  readonly fetchMax: number;
  /** How long one fetch waits for a first message. */
  readonly fetchWaitMs: number;
  /** Largest micro-batch handed to the ingestor (one durable store write). */
  readonly microBatchMax: number;
  /** Bounds and start of the adaptive limit on concurrently running micro-batches. */
  readonly concurrencyMin: number;
  readonly concurrencyMax: number;
  readonly concurrencyInitial: number;
  /** Backoff tiers of the retry streams; attempt n waits `retryDelaysMs[min(n-1, last)]`. */
  readonly retryDelaysMs: readonly number[];
  /** Attempts (first one included) before a transiently failing message is dead-lettered. */
  readonly maxAttempts: number;
  /** Messages in flight longer than this are reported as still in progress to the broker. */
  readonly touchIntervalMs: number;
}

export const DEFAULT_CONSUMER_OPTIONS: ConsumerOptions = Object.freeze({
  // Room for about three store commits' worth of events: one being written, one being flushed,
  // one filling. At 10,000 a durable LMDB commit held about 4,500 events and an append cost
  // about 10 µs; bigger commits amortise each B-tree page copy over more appends (BENCHMARKS.md).
  maxInFlight: 30_000,
  fetchMax: 5_000,
  fetchWaitMs: 1_000,
  // Few, big micro-batches: a store write's cost is partly per batch (one row meta per key per
  // batch in LMDB, one ack, one call), and the stores parallelise inside a batch themselves
  // (DynamoDB: 32 calls at a time). Measured on the ingestion benchmark against 1,000 / 32.
  microBatchMax: 5_000,
  concurrencyMin: 1,
  concurrencyMax: 8,
  concurrencyInitial: 4,
  retryDelaysMs: Object.freeze([1_000, 10_000, 60_000]),
  maxAttempts: 4,
  touchIntervalMs: 10_000,
});

/** Reads the consumer part of `streams.<name>.options`; unknown keys are left to the adapter. */
export function readConsumerOptions(
  stream: string,
  options: Readonly<Record<string, unknown>>,
): ConsumerOptions {
  const where = (key: string): string => `streams.${stream}.options.${key}`;
  const d = DEFAULT_CONSUMER_OPTIONS;
  const concurrency = options.concurrency;
  const conc =
    typeof concurrency === 'object' && concurrency !== null ? (concurrency as Record<string, unknown>) : {};
  if (concurrency !== undefined && (typeof concurrency !== 'object' || concurrency === null)) {
    throw optionError(where('concurrency'), 'a map {min, max, initial}', concurrency);
  }
  const concurrencyMin = positiveInt(conc.min, where('concurrency.min')) ?? d.concurrencyMin;
  const concurrencyMax =
    positiveInt(conc.max, where('concurrency.max')) ?? Math.max(d.concurrencyMax, concurrencyMin);
  if (concurrencyMax < concurrencyMin) {
    throw optionError(
      where('concurrency.max'),
      `at least concurrency.min (${concurrencyMin})`,
      concurrencyMax,
    );
  }
  const initial = positiveInt(conc.initial, where('concurrency.initial')) ?? d.concurrencyInitial;
  const retryDelaysMs = readDelays(options.retryDelays, where('retryDelays')) ?? d.retryDelaysMs;
  return {
    maxInFlight: positiveInt(options.maxInFlight, where('maxInFlight')) ?? d.maxInFlight,
    fetchMax: positiveInt(options.fetchMax, where('fetchMax')) ?? d.fetchMax,
    fetchWaitMs: duration(options.fetchWait, where('fetchWait')) ?? d.fetchWaitMs,
    microBatchMax: positiveInt(options.microBatchMax, where('microBatchMax')) ?? d.microBatchMax,
    concurrencyMin,
    concurrencyMax,
    concurrencyInitial: Math.min(concurrencyMax, Math.max(concurrencyMin, initial)),
    retryDelaysMs,
    maxAttempts: positiveInt(options.maxAttempts, where('maxAttempts')) ?? retryDelaysMs.length + 1,
    touchIntervalMs: duration(options.touchInterval, where('touchInterval')) ?? d.touchIntervalMs,
  };
}

/** A duration option: `500ms`, `10s`, ... or a number of milliseconds. */
export function duration(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const ms = parseDuration(value);
    if (ms !== undefined) return ms;
  }
  throw optionError(where, 'a duration like 500ms, 10s, 1m (or a number of ms)', value);
}

export function positiveInt(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 1) return n;
  throw optionError(where, 'a positive integer', value);
}

export function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  throw optionError(where, 'a non-empty string', value);
}

function readDelays(value: unknown, where: string): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0)
    throw optionError(where, 'a non-empty list of durations', value);
  return value.map((entry, i) => duration(entry, `${where}[${i}]`) as number);
}

export function optionError(where: string, expected: string, got: unknown): LarderError {
  return new LarderError(
    'LARDER_ERR_STREAM_OPTION',
    `${where} must be ${expected}, got ${JSON.stringify(got)}`,
    {
      details: { option: where },
    },
  );
}
