/**
 * The sampling clock shared by the console's histories: time is cut into ticks of `sampleMs`, and
 * an hour of them is kept. A series answers the completed ticks of the last hour.
 */
export class HistoryClock {
  /** Ticks kept: one hour's worth (at most 3,600 of them). */
  readonly size: number;

  constructor(
    readonly sampleMs: number,
    readonly now: () => number = Date.now,
  ) {
    this.size = Math.min(3_600, Math.max(2, Math.ceil(3_600_000 / sampleMs)));
  }

  tick(at: number = this.now()): number {
    return Math.floor(at / this.sampleMs);
  }

  /**
   * The ticks of the window ending at `to` (default: the last completed tick): `[from, to]` and
   * their times in epoch seconds.
   */
  window(to: number = this.tick() - 1): { from: number; to: number; t: number[] } {
    const from = to - this.size + 1;
    const t: number[] = [];
    for (let tick = from; tick <= to; tick++) t.push((tick * this.sampleMs) / 1000);
    return { from, to, t };
  }
}
