/**
 * AIMD concurrency limit, driven by micro-batch latency and backlog.
 *
 * - Additive increase: while work is waiting (backlog) and latency stays near its baseline, the
 *   limit grows by one per `limit` successful samples (about one step per round of batches).
 * - Multiplicative decrease: when latency rises well above the baseline (the store is saturated),
 *   the limit shrinks by `decrease`; on a failure it halves. At most one decrease per round, so a
 *   burst of slow batches that were all started under the old limit counts once.
 *
 * The baseline is a slowly rising minimum of observed latency, so it follows a store whose normal
 * speed changes (bigger batches, a warmer cache) without being dragged up by a transient spike.
 */
export interface AdaptiveConcurrencyOptions {
  readonly min: number;
  readonly max: number;
  /** Starting limit. Default `min`. */
  readonly initial?: number;
  /** Latency above `baseline * tolerance` (and above `floorMs`) counts as congestion. Default 2. */
  readonly tolerance?: number;
  /** Latency below this never counts as congestion, however low the baseline. Default 50 ms. */
  readonly floorMs?: number;
  /**
   * Latency above this is always congestion, even once the baseline has drifted up to it: the
   * baseline follows a store whose speed changes slowly, this bound stops it following forever.
   * Default 2000 ms.
   */
  readonly ceilingMs?: number;
  /** Multiplier applied on congestion. Default 0.8. */
  readonly decrease?: number;
}

export interface LatencySample {
  readonly latencyMs: number;
  /** Items still waiting to start when the sample was taken. */
  readonly backlog: number;
  readonly failed?: boolean;
}

export class AdaptiveConcurrency {
  readonly min: number;
  readonly max: number;
  readonly #tolerance: number;
  readonly #floorMs: number;
  readonly #decrease: number;
  readonly #ceilingMs: number;
  #limit: number;
  #baseline = Number.POSITIVE_INFINITY;
  #successes = 0;
  #samplesSinceDecrease = Number.POSITIVE_INFINITY;

  constructor(options: AdaptiveConcurrencyOptions) {
    this.min = Math.max(1, Math.floor(options.min));
    this.max = Math.max(this.min, Math.floor(options.max));
    this.#limit = clamp(Math.floor(options.initial ?? this.min), this.min, this.max);
    this.#tolerance = options.tolerance ?? 2;
    this.#floorMs = options.floorMs ?? 50;
    this.#decrease = options.decrease ?? 0.8;
    this.#ceilingMs = options.ceilingMs ?? 2_000;
  }

  get limit(): number {
    return this.#limit;
  }

  /** The latency the limiter currently treats as normal, ms. */
  get baselineMs(): number {
    return this.#baseline;
  }

  /** Feeds one finished micro-batch; returns the new limit. */
  sample(sample: LatencySample): number {
    this.#samplesSinceDecrease += 1;
    // Rise slowly (1% per sample) towards newer values; drop at once to a new minimum.
    this.#baseline =
      sample.latencyMs < this.#baseline
        ? sample.latencyMs
        : this.#baseline + (sample.latencyMs - this.#baseline) * 0.01;

    const congested =
      sample.latencyMs > this.#ceilingMs ||
      sample.latencyMs > Math.max(this.#floorMs, this.#baseline * this.#tolerance);
    if (sample.failed === true || congested) {
      this.#successes = 0;
      if (this.#samplesSinceDecrease >= this.#limit) {
        const factor = sample.failed === true ? 0.5 : this.#decrease;
        this.#limit = clamp(Math.floor(this.#limit * factor), this.min, this.max);
        this.#samplesSinceDecrease = 0;
      }
      return this.#limit;
    }
    if (sample.backlog > 0) {
      this.#successes += 1;
      if (this.#successes >= this.#limit) {
        this.#successes = 0;
        this.#limit = clamp(this.#limit + 1, this.min, this.max);
      }
    }
    return this.#limit;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
