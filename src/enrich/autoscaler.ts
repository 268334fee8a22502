/**
 * How many invocations of one enricher a worker runs at once, reconsidered every interval from the
 * queue's backlog, the way Lambda scales on an SQS queue:
 *
 * - **grow** by `step` (up to `max`) while invocations wait and the backlog is not shrinking away:
 *   it grew since the last interval, or it holds more than the last interval completed;
 * - **shrink** by `step` (down to `min`) when nothing waits and slots stand idle;
 * - otherwise keep the limit.
 *
 * A pure state machine: the caller feeds it what it measured, so tests drive it without timers.
 * Every change is recorded (`history`), which is what tests and the console look at.
 */
export interface ScaleInput {
  /** Invocations waiting to be taken (queued). */
  readonly backlog: number;
  /** Invocations this worker finished since the previous tick. */
  readonly completed: number;
  /** Calls in flight now. */
  readonly running: number;
}

export interface ScaleBounds {
  readonly min: number;
  readonly max: number;
  readonly step: number;
}

/** History entries kept; older ones are dropped. */
const HISTORY_LIMIT = 1_000;

export class Autoscaler {
  #bounds: ScaleBounds;
  #limit: number;
  #previousBacklog = 0;
  readonly #history: { readonly at: number; readonly limit: number }[] = [];

  constructor(bounds: ScaleBounds, now = Date.now()) {
    this.#bounds = bounds;
    this.#limit = bounds.min;
    this.#record(now);
  }

  get limit(): number {
    return this.#limit;
  }

  /** Every limit taken, with when, oldest first. */
  get history(): readonly { readonly at: number; readonly limit: number }[] {
    return this.#history;
  }

  /** Takes new bounds (a registry reload), clamping the current limit into them. */
  setBounds(bounds: ScaleBounds, now = Date.now()): void {
    this.#bounds = bounds;
    this.#set(Math.min(bounds.max, Math.max(bounds.min, this.#limit)), now);
  }

  tick(input: ScaleInput, now = Date.now()): number {
    const { min, max, step } = this.#bounds;
    const growing = input.backlog > this.#previousBacklog || input.backlog > input.completed;
    this.#previousBacklog = input.backlog;
    if (input.backlog > 0 && growing) this.#set(Math.min(max, this.#limit + step), now);
    else if (input.backlog === 0 && input.running < this.#limit)
      this.#set(Math.max(min, this.#limit - step), now);
    return this.#limit;
  }

  #set(limit: number, now: number): void {
    if (limit === this.#limit && this.#history.length > 0) return;
    this.#limit = limit;
    this.#record(now);
  }

  #record(now: number): void {
    this.#history.push({ at: now, limit: this.#limit });
    if (this.#history.length > HISTORY_LIMIT) this.#history.shift();
  }
}
