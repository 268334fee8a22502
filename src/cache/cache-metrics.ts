import { Counter, Gauge, Registry } from 'prom-client';

/** What the serving side's metrics expose for cache hit ratios (`ServeMetrics.recordCache`). */
export interface CacheHitSink {
  recordCache(level: string, hits: number, misses: number): void;
}

interface LevelTotals {
  hits: number;
  misses: number;
  fillsLanded: number;
  fillsRefused: number;
  errors: number;
}

/**
 * Metrics of the layered read path, on a prom-client registry (a private one unless given):
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `larder_cache_level_lookups_total` | counter | `level` (local, redis, store), `result` (hit, miss) |
 * | `larder_cache_fills_total` | counter | `level`, `outcome` (landed, refused) |
 * | `larder_cache_refreshes_total` | counter | `reason` (soft-expired, xfetch) |
 * | `larder_cache_errors_total` | counter | `level`, `op` |
 * | `larder_cache_degraded` | gauge | `level`: 1 while the level is unreachable and skipped |
 *
 * Hits and misses are also forwarded to a `CacheHitSink` (the server's `ServeMetrics`) when given.
 * `totals` keeps plain numbers for tests and the benchmark.
 */
export class CacheMetrics {
  readonly registry: Registry;
  readonly totals = new Map<string, LevelTotals>();
  refreshes = 0;
  readonly #lookups: Counter<'level' | 'result'>;
  readonly #fills: Counter<'level' | 'outcome'>;
  readonly #refreshes: Counter<'reason'>;
  readonly #errors: Counter<'level' | 'op'>;
  readonly #degraded: Gauge<'level'>;
  readonly #sink: CacheHitSink | undefined;
  readonly #degradedNow = new Map<string, boolean>();

  constructor(options: { registry?: Registry; sink?: CacheHitSink } = {}) {
    const registry = (this.registry = options.registry ?? new Registry());
    this.#sink = options.sink;
    this.#lookups = new Counter({
      name: 'larder_cache_level_lookups_total',
      help: 'Keys looked up per cache level (and the store), by result.',
      labelNames: ['level', 'result'],
      registers: [registry],
    });
    this.#fills = new Counter({
      name: 'larder_cache_fills_total',
      help: 'Back-fills into a cache level: landed, or refused because a write revoked the lease.',
      labelNames: ['level', 'outcome'],
      registers: [registry],
    });
    this.#refreshes = new Counter({
      name: 'larder_cache_refreshes_total',
      help: 'Background refreshes started (soft TTL passed, or XFetch chose to refresh early).',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.#errors = new Counter({
      name: 'larder_cache_errors_total',
      help: 'Cache level operations that failed (the read path carried on without the level).',
      labelNames: ['level', 'op'],
      registers: [registry],
    });
    this.#degraded = new Gauge({
      name: 'larder_cache_degraded',
      help: '1 while a cache level is unreachable and serving goes around it.',
      labelNames: ['level'],
      registers: [registry],
    });
  }

  level(name: string): LevelTotals {
    let t = this.totals.get(name);
    if (t === undefined) {
      t = { hits: 0, misses: 0, fillsLanded: 0, fillsRefused: 0, errors: 0 };
      this.totals.set(name, t);
    }
    return t;
  }

  lookups(level: string, hits: number, misses: number): void {
    if (hits === 0 && misses === 0) return;
    const t = this.level(level);
    t.hits += hits;
    t.misses += misses;
    if (hits > 0) this.#lookups.inc({ level, result: 'hit' }, hits);
    if (misses > 0) this.#lookups.inc({ level, result: 'miss' }, misses);
    this.#sink?.recordCache(level, hits, misses);
  }

  fills(level: string, landed: number, refused: number): void {
    const t = this.level(level);
    t.fillsLanded += landed;
    t.fillsRefused += refused;
    if (landed > 0) this.#fills.inc({ level, outcome: 'landed' }, landed);
    if (refused > 0) this.#fills.inc({ level, outcome: 'refused' }, refused);
  }

  refresh(reason: 'soft-expired' | 'xfetch'): void {
    this.refreshes++;
    this.#refreshes.inc({ reason });
  }

  error(level: string, op: string): void {
    this.level(level).errors++;
    this.#errors.inc({ level, op });
  }

  degraded(level: string, on: boolean): void {
    this.#degradedNow.set(level, on);
    this.#degraded.set({ level }, on ? 1 : 0);
  }

  isDegraded(level: string): boolean {
    return this.#degradedNow.get(level) ?? false;
  }

  /** Hits / lookups of a level since start (0 when never asked). */
  hitRatio(level: string): number {
    const t = this.totals.get(level);
    if (t === undefined || t.hits + t.misses === 0) return 0;
    return t.hits / (t.hits + t.misses);
  }

  reset(): void {
    this.totals.clear();
    this.refreshes = 0;
  }
}
