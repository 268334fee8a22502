/**
 * Contiguous-watermark tracking for one partition. Messages are registered in the order they were
 * fetched and may finish in any order; the watermark is the offset of the last message of the
 * longest finished prefix. Committing only the watermark means a crash replays exactly what was
 * unfinished (plus finished messages behind an unfinished one, which idempotent writes absorb).
 *
 * Offsets are opaque strings: the tracker relies only on fetch order, so gaps in the broker's
 * numbering (compacted Kafka topics, Redis entry ids, Kinesis sequence numbers) need no special care.
 */
export class OffsetTracker {
  // A queue of registered messages from the oldest unfinished one; `#head` indexes into it and the
  // array is compacted now and then so memory stays proportional to what is in flight.
  #offsets: string[] = [];
  #done: boolean[] = [];
  #head = 0;
  /** Sequence number of `#offsets[0]`. Sequence numbers are the handles returned by `track`. */
  #base = 0;
  #watermark: string | undefined;
  #pendingCommit = false;

  /** Registers a fetched message; returns its handle for `finish`. Call in fetch order. */
  track(offset: string): number {
    this.#offsets.push(offset);
    this.#done.push(false);
    return this.#base + this.#offsets.length - 1;
  }

  /**
   * Marks a message finished and folds it into the watermark. Returns true when the watermark
   * moved (a commit is now due). Finishing a handle twice, or one from before a `reset`, is a no-op.
   */
  finish(handle: number): boolean {
    const index = handle - this.#base;
    if (index < this.#head || index >= this.#offsets.length || this.#done[index] === true) return false;
    this.#done[index] = true;
    if (index !== this.#head) return false;
    let head = this.#head;
    while (head < this.#offsets.length && this.#done[head] === true) head += 1;
    this.#watermark = this.#offsets[head - 1];
    this.#head = head;
    this.#pendingCommit = true;
    this.#compact();
    return true;
  }

  /** The highest offset below which (inclusive) every tracked message finished. */
  get watermark(): string | undefined {
    return this.#watermark;
  }

  /** Messages tracked but not yet folded into the watermark (finished or not). */
  get outstanding(): number {
    return this.#offsets.length - this.#head;
  }

  /** Returns the watermark if it moved since the last call, and clears the flag. */
  takeCommit(): string | undefined {
    if (!this.#pendingCommit) return undefined;
    this.#pendingCommit = false;
    return this.#watermark;
  }

  /**
   * Forgets everything (the partition was revoked). Handles issued before stay harmless: their
   * indexes fall below the new base, so `finish` ignores them.
   */
  reset(): void {
    this.#base += this.#offsets.length;
    this.#offsets = [];
    this.#done = [];
    this.#head = 0;
    this.#watermark = undefined;
    this.#pendingCommit = false;
  }

  #compact(): void {
    if (this.#head < 1024 && this.#head * 2 < this.#offsets.length) return;
    this.#offsets = this.#offsets.slice(this.#head);
    this.#done = this.#done.slice(this.#head);
    this.#base += this.#head;
    this.#head = 0;
  }
}
