/** What a consumer reports while it runs; `stream-metrics.ts` turns it into Prometheus metrics. */
export type ConsumerOutcome = 'written' | 'filtered' | 'rejected' | 'retried' | 'dead_lettered' | 'fenced';

export interface ConsumerObserver {
  /** `count` events of `source` ended with `outcome` (fenced: dropped because the partition moved). */
  outcome(source: string, outcome: ConsumerOutcome, count: number): void;
  /** Event time → visible in the store, ms, for one written event. */
  freshness(source: string, ms: number): void;
  /** One micro-batch ran, with this many events, in this many ms, under this concurrency limit. */
  batch(source: string, size: number, latencyMs: number, limit: number): void;
  /** Messages fetched but not yet finished. */
  inFlight(source: string, count: number): void;
  /** A broker call failed (fetch, ack, commit, retry publish, dead-letter publish). */
  brokerError(source: string, operation: string): void;
}

/** Observer that records nothing. */
export const NO_OBSERVER: ConsumerObserver = Object.freeze({
  outcome: () => undefined,
  freshness: () => undefined,
  batch: () => undefined,
  inFlight: () => undefined,
  brokerError: () => undefined,
});
