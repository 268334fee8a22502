/**
 * One time series over a fixed window of ticks (a tick is one sample interval), in a ring: the
 * value of tick `n` lives in slot `n % size` together with `n` itself, so a series nobody writes
 * to for a while costs nothing per tick, and its stale slots read as absent rather than as old
 * values. Memory is fixed: two Float64Arrays of `size`.
 */
export class TickRing {
  readonly #values: Float64Array;
  readonly #ticks: Float64Array;

  constructor(readonly size: number) {
    this.#values = new Float64Array(size);
    this.#ticks = new Float64Array(size).fill(-1);
  }

  set(tick: number, value: number): void {
    const slot = tick % this.size;
    this.#ticks[slot] = tick;
    this.#values[slot] = value;
  }

  /** Adds to the value of `tick` (starting from 0 when the tick has none yet). */
  add(tick: number, delta: number): void {
    const slot = tick % this.size;
    if (this.#ticks[slot] !== tick) {
      this.#ticks[slot] = tick;
      this.#values[slot] = 0;
    }
    this.#values[slot] = (this.#values[slot] ?? 0) + delta;
  }

  /** The value of `tick`, or `missing` when it was not written (or has been overwritten). */
  get(tick: number, missing: number | null): number | null {
    const slot = tick % this.size;
    return this.#ticks[slot] === tick ? (this.#values[slot] ?? missing) : missing;
  }

  /** Values of ticks `from..to` inclusive, `missing` where none was written. */
  read(from: number, to: number, missing: number | null): (number | null)[] {
    const out: (number | null)[] = [];
    for (let tick = Math.max(from, to - this.size + 1); tick <= to; tick++) out.push(this.get(tick, missing));
    return out;
  }
}
