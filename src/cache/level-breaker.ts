/**
 * The circuit breaker of a remote cache level. A Redis that hangs (a stalled host, SIGSTOP, a
 * full network buffer) keeps its connection open, so every command waits for the command timeout
 * before failing; without a breaker each read would pay that wait, twice (the read, then the fill
 * lease), for the whole outage. After `failures` consecutive failed round trips the breaker opens:
 * the level reports itself unavailable, so reads go straight to the store and writes only note
 * what to drop later. While open, one probe every `resetMs` (a PING, bounded by the same timeout)
 * asks whether Redis answers again; the first that does closes it.
 */
export interface LevelBreakerOptions {
  /** Consecutive failed round trips that open the breaker. */
  readonly failures: number;
  /** Time between probes while open, ms. */
  readonly resetMs: number;
  /** One round trip to the level; resolves true when it answered. Never called while closed. */
  readonly probe: () => Promise<boolean>;
  /** Called with true when the breaker opens, false when it closes again. */
  readonly onChange: (open: boolean) => void;
}

export class LevelBreaker {
  readonly #options: LevelBreakerOptions;
  #consecutive = 0;
  #open = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: LevelBreakerOptions) {
    this.#options = options;
  }

  /** True while round trips are refused. */
  get open(): boolean {
    return this.#open;
  }

  /** A round trip answered. */
  succeeded(): void {
    this.#consecutive = 0;
  }

  /** A round trip failed (timed out, or the connection broke). */
  failed(): void {
    if (this.#open || ++this.#consecutive < this.#options.failures) return;
    this.#open = true;
    this.#options.onChange(true);
    this.#probeLater();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #probeLater(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#probe(), this.#options.resetMs);
    this.#timer.unref();
  }

  async #probe(): Promise<void> {
    const answered = await this.#options.probe().catch(() => false);
    if (this.#stopped) return;
    if (!answered) {
      this.#probeLater();
      return;
    }
    this.#open = false;
    this.#consecutive = 0;
    this.#options.onChange(false);
  }
}
