import v8 from 'node:v8';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BREAKER_STATE_VALUE, type BreakerState } from '../net/circuit-breaker.ts';
import type { OnDemandObserver } from './on-demand/on-demand-service.ts';

/**
 * Prometheus metrics of the serving side, on a registry of their own (so several servers in one
 * process, as in tests, never clash on the global one):
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `larder_request_duration_seconds` | histogram | `operation`, `status` |
 * | `larder_rows_served_total` | counter | |
 * | `larder_features_served_total` | counter | |
 * | `larder_cache_lookups_total` | counter | `level`, `result` (hit/miss) |
 * | `larder_cache_hit_ratio` | gauge | `level` (hits / lookups since start) |
 * | `larder_ondemand_duration_seconds` | histogram | `feature`, `outcome` |
 * | `larder_ondemand_breaker_state` | gauge | `feature` (0 closed, 1 half-open, 2 open) |
 * | `larder_registry_info` | gauge | `version` (1 for the version in force) |
 *
 * plus the prom-client process metrics (`larder_process_*`, `larder_nodejs_*`).
 */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Operation names become label values; beyond this many distinct ones, they are counted as `other`. */
const MAX_OPERATION_NAMES = 100;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** What the GraphQL fast path did with a request (see fast-path/fast-graphql.ts). */
export type FastPathOutcome = 'answered' | 'not_covered' | 'handed_over';

export class ServeMetrics {
  readonly registry: Registry;
  readonly #requestDuration: Histogram<'operation' | 'status'>;
  readonly #rows: Counter;
  readonly #features: Counter;
  readonly #cacheLookups: Counter<'level' | 'result'>;
  readonly #onDemandDuration: Histogram<'feature' | 'outcome'>;
  readonly #breakerState: Gauge<'feature'>;
  readonly #registryInfo: Gauge<'version'>;
  readonly #fastPath: Counter<'outcome'>;
  readonly #cacheCounts = new Map<string, { hits: number; misses: number }>();
  readonly #operations = new Set<string>();
  readonly #included: Registry[] = [];

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registry = (this.registry = new Registry());
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: registry, prefix: 'larder_' });
      // Shows the V8 flags the process runs with: the limit counts 3 semi-spaces (young-generation.ts).
      new Gauge({
        name: 'larder_nodejs_heap_size_limit_bytes',
        help: 'V8 heap size limit of the process: the old generation plus the young generation at its largest.',
        registers: [registry],
        collect() {
          this.set(v8.getHeapStatistics().heap_size_limit);
        },
      });
    }
    this.#requestDuration = new Histogram({
      name: 'larder_request_duration_seconds',
      help: 'Serving request latency, by operation (GraphQL operation name, or the REST route).',
      labelNames: ['operation', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.#rows = new Counter({
      name: 'larder_rows_served_total',
      help: 'Action rows returned to clients.',
      registers: [registry],
    });
    this.#features = new Counter({
      name: 'larder_features_served_total',
      help: 'Feature values returned to clients (one per static value, action row field or on-demand value).',
      registers: [registry],
    });
    this.#cacheLookups = new Counter({
      name: 'larder_cache_lookups_total',
      help: 'Cache lookups by level and result.',
      labelNames: ['level', 'result'],
      registers: [registry],
    });
    this.#fastPath = new Counter({
      name: 'larder_graphql_fast_path_total',
      help: 'POST /graphql requests by what the compiled fast path did: answered, not_covered (a query it does not compile), handed_over (it left the request to the full executor: invalid variables, a limit, an error).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    const counts = this.#cacheCounts;
    new Gauge({
      name: 'larder_cache_hit_ratio',
      help: 'Share of lookups answered by each cache level since start.',
      labelNames: ['level'],
      aggregator: 'average',
      registers: [registry],
      collect() {
        for (const [level, c] of counts) {
          const total = c.hits + c.misses;
          this.set({ level }, total === 0 ? 0 : c.hits / total);
        }
      },
    });
    this.#onDemandDuration = new Histogram({
      name: 'larder_ondemand_duration_seconds',
      help: 'On-demand upstream calls, by feature and outcome (ok, timeout, http_error, breaker_open, ...).',
      labelNames: ['feature', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.#breakerState = new Gauge({
      name: 'larder_ondemand_breaker_state',
      help: 'Circuit breaker of each on-demand feature: 0 closed, 1 half-open, 2 open.',
      labelNames: ['feature'],
      aggregator: 'max',
      registers: [registry],
    });
    this.#registryInfo = new Gauge({
      name: 'larder_registry_info',
      help: 'The registry version in force (value 1).',
      labelNames: ['version'],
      aggregator: 'max',
      registers: [registry],
    });
  }

  /** A bounded label value for a GraphQL operation name. */
  operationLabel(name: string | null | undefined): string {
    if (name == null || name === '') return 'anonymous';
    if (this.#operations.has(name)) return name;
    if (!OPERATION_NAME.test(name) || this.#operations.size >= MAX_OPERATION_NAMES) return 'other';
    this.#operations.add(name);
    return name;
  }

  observeRequest(operation: string, status: number, seconds: number): void {
    this.#requestDuration.observe({ operation, status: String(status) }, seconds);
  }

  recordFastPath(outcome: FastPathOutcome): void {
    this.#fastPath.inc({ outcome });
  }

  recordServed(rows: number, features: number): void {
    if (rows > 0) this.#rows.inc(rows);
    if (features > 0) this.#features.inc(features);
  }

  /** Called by cache levels (or the read path) with a batch's hits and misses at one level. */
  recordCache(level: string, hits: number, misses: number): void {
    let c = this.#cacheCounts.get(level);
    if (c === undefined) this.#cacheCounts.set(level, (c = { hits: 0, misses: 0 }));
    c.hits += hits;
    c.misses += misses;
    if (hits > 0) this.#cacheLookups.inc({ level, result: 'hit' }, hits);
    if (misses > 0) this.#cacheLookups.inc({ level, result: 'miss' }, misses);
  }

  setRegistryVersion(version: string): void {
    this.#registryInfo.reset();
    this.#registryInfo.set({ version }, 1);
  }

  setBreakerState(feature: string, state: BreakerState): void {
    this.#breakerState.set({ feature }, BREAKER_STATE_VALUE[state]);
  }

  /** Wires an OnDemandService to these metrics. */
  onDemandObserver(): OnDemandObserver {
    return {
      call: (feature, outcome, seconds) => this.#onDemandDuration.observe({ feature, outcome }, seconds),
      breakerState: (feature, state) => this.setBreakerState(feature, state),
    };
  }

  /**
   * Serves another component's registry on the same `/metrics` (the cache levels' and the stream
   * consumers' metrics in `larder serve`). Call before the server is created: a cluster worker
   * hands its registries to the primary once, at start.
   */
  include(registry: Registry): void {
    if (registry !== this.registry && !this.#included.includes(registry)) this.#included.push(registry);
  }

  /** This registry and every included one. */
  get registries(): readonly Registry[] {
    return [this.registry, ...this.#included];
  }

  /** The Prometheus text exposition of this process. */
  async render(): Promise<{ contentType: string; body: string }> {
    const registry = this.#included.length === 0 ? this.registry : Registry.merge([...this.registries]);
    return { contentType: this.registry.contentType, body: await registry.metrics() };
  }
}
