import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { InvocationState, QueueCounts } from './invocation-queue.ts';

/**
 * Prometheus metrics of the enrichment workers, per enricher, on a registry of their own that the
 * server merges into `/metrics` (and `larder enrich --metrics-port` serves):
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `larder_enrich_queue_depth` | gauge | `enricher` (queued + failed awaiting their retry) |
 * | `larder_enrich_oldest_age_seconds` | gauge | `enricher` (how long the oldest waiting one has waited) |
 * | `larder_enrich_invocations` | gauge | `enricher`, `state` (queued, running, failed, succeeded, dead: the whole queue) |
 * | `larder_enrich_outcomes_total` | counter | `enricher`, `outcome` (succeeded, failed, dead: this process) |
 * | `larder_enrich_handler_duration_seconds` | histogram | `enricher`, `outcome` (ok, error) |
 * | `larder_enrich_concurrency` | gauge | `enricher` (the autoscaled limit) |
 * | `larder_enrich_in_flight` | gauge | `enricher` (calls running in this process) |
 *
 * The queue gauges are refreshed on every scaling interval.
 */
export class EnrichMetrics {
  readonly registry: Registry;
  readonly #depth: Gauge<'enricher'>;
  readonly #oldest: Gauge<'enricher'>;
  readonly #states: Gauge<'enricher' | 'state'>;
  readonly #outcomes: Counter<'enricher' | 'outcome'>;
  readonly #duration: Histogram<'enricher' | 'outcome'>;
  readonly #concurrency: Gauge<'enricher'>;
  readonly #inFlight: Gauge<'enricher'>;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.#depth = new Gauge({
      name: 'larder_enrich_queue_depth',
      help: 'Invocations waiting: queued, and failed ones awaiting their retry.',
      labelNames: ['enricher'],
      registers,
    });
    this.#oldest = new Gauge({
      name: 'larder_enrich_oldest_age_seconds',
      help: 'How long the oldest waiting invocation has waited.',
      labelNames: ['enricher'],
      registers,
    });
    this.#states = new Gauge({
      name: 'larder_enrich_invocations',
      help: 'Invocations in the queue, by state.',
      labelNames: ['enricher', 'state'],
      registers,
    });
    this.#outcomes = new Counter({
      name: 'larder_enrich_outcomes_total',
      help: 'Invocation attempts finished by this process: succeeded, failed (to be retried), dead.',
      labelNames: ['enricher', 'outcome'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'larder_enrich_handler_duration_seconds',
      help: 'Handler call latency.',
      labelNames: ['enricher', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#concurrency = new Gauge({
      name: 'larder_enrich_concurrency',
      help: 'Calls the worker may run at once (autoscaled between the enricher min and max).',
      labelNames: ['enricher'],
      registers,
    });
    this.#inFlight = new Gauge({
      name: 'larder_enrich_in_flight',
      help: 'Handler calls running in this process.',
      labelNames: ['enricher'],
      registers,
    });
  }

  queue(enricher: string, counts: QueueCounts, now = Date.now()): void {
    this.#depth.set({ enricher }, counts.queued + counts.failed);
    this.#oldest.set(
      { enricher },
      counts.oldestWaitingAt === undefined ? 0 : Math.max(0, now - counts.oldestWaitingAt) / 1000,
    );
    for (const state of [
      'queued',
      'running',
      'failed',
      'succeeded',
      'dead',
    ] as const satisfies readonly InvocationState[]) {
      this.#states.set({ enricher, state }, counts[state]);
    }
  }

  outcome(enricher: string, outcome: 'succeeded' | 'failed' | 'dead'): void {
    this.#outcomes.inc({ enricher, outcome });
  }

  handlerCall(enricher: string, ok: boolean, seconds: number): void {
    this.#duration.observe({ enricher, outcome: ok ? 'ok' : 'error' }, seconds);
  }

  concurrency(enricher: string, limit: number, inFlight: number): void {
    this.#concurrency.set({ enricher }, limit);
    this.#inFlight.set({ enricher }, inFlight);
  }
}
