/** A clock that only moves when a test moves it, so TTL tests never sleep. */
export interface ManualClock {
  /** Pass this as a store's `now` option. */
  readonly now: () => number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let current = start;
  return {
    now: () => current,
    set(ms) {
      current = ms;
    },
    advance(ms) {
      current += ms;
    },
  };
}
