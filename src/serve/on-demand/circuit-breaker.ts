/**
 * A circuit breaker for one upstream. After `failures` consecutive failures it opens: calls are
 * refused at once (the caller serves its fallback) for `resetMs`. Then ONE probe call is let
 * through (half-open) while every other call is still refused; the probe's success closes the
 * breaker, its failure opens it for another `resetMs`.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

/** Numeric form for the metrics gauge: 0 closed, 1 half-open, 2 open. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  half_open: 1,
  open: 2,
};

export interface BreakerOptions {
  readonly failures: number;
  readonly resetMs: number;
  /** Called on every state change (for logs and metrics). */
  readonly onStateChange?: (state: BreakerState) => void;
  /** The clock `resetMs` is measured on, ms; tests pass a manual one. Default `Date.now`. */
  readonly now?: () => number;
}

export class CircuitBreaker {
  readonly #options: BreakerOptions;
  readonly #now: () => number;
  #state: BreakerState = 'closed';
  #consecutiveFailures = 0;
  #openedAt = 0;
  #probeInFlight = false;

  constructor(options: BreakerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /**
   * Asks to make a call. Returns false when the call must not go out (serve the fallback). When it
   * returns true the caller MUST report the outcome with `success()` or `failure()`.
   */
  tryAcquire(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') {
      if (this.#now() - this.#openedAt < this.#options.resetMs) return false;
      this.#set('half_open');
    }
    // half-open: exactly one probe at a time.
    if (this.#probeInFlight) return false;
    this.#probeInFlight = true;
    return true;
  }

  success(): void {
    this.#consecutiveFailures = 0;
    this.#probeInFlight = false;
    if (this.#state !== 'closed') this.#set('closed');
  }

  failure(): void {
    this.#probeInFlight = false;
    if (this.#state === 'half_open') {
      this.#open();
      return;
    }
    this.#consecutiveFailures++;
    if (this.#state === 'closed' && this.#consecutiveFailures >= this.#options.failures) this.#open();
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#consecutiveFailures = 0;
    this.#set('open');
  }

  #set(state: BreakerState): void {
    this.#state = state;
    this.#options.onStateChange?.(state);
  }
}
