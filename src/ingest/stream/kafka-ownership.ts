/** One partition while this member owns it. */
interface Owned {
  /** Assignment epoch: new each time the partition is newly assigned here (see `apply`). */
  readonly epoch: number;
  /** Next offset to fetch; undefined until resolved from the group's commit (or `startFrom`). */
  position: bigint | undefined;
  /** Resolve from `startFrom`, not the commit (the commit fell out of the log). */
  fromStart: boolean;
  /** The group's committed offset (next to read), as far as this member knows. */
  committed: bigint | undefined;
}

/**
 * Which partitions of one topic this group member owns, since when (the epoch) and where it reads
 * each of them. The invariants that keep a rebalance from losing or doubling messages:
 *
 * - A partition kept across a rebalance keeps its epoch and position: what was fetched for it is
 *   still being worked on, and nothing else ever read it meanwhile (eager rebalancing assigns a
 *   partition to one member per generation, and a member that stays in the group takes part in
 *   every generation).
 * - A newly assigned partition gets a new epoch, higher than any before, and no position: it is
 *   read from the group's commit, which covers exactly what its previous owners finished.
 * - A member that left the group (a new member id, or a lost membership) starts over: every
 *   partition counts as new.
 * - Fetch results are applied only if the partition is still at the epoch and offset they were
 *   asked for, so a late answer from before a rebalance can neither move a position nor add
 *   messages.
 */
export class KafkaOwnership {
  readonly #owned = new Map<number, Owned>();
  #nextEpoch = 1;
  #memberId: string | undefined;

  /** Applies the assignment of a completed group join. */
  apply(memberId: string, _generation: number, partitions: readonly number[]): void {
    if (memberId !== this.#memberId) this.#owned.clear();
    this.#memberId = memberId;
    const wanted = new Set(partitions);
    for (const p of [...this.#owned.keys()]) if (!wanted.has(p)) this.#owned.delete(p);
    for (const p of wanted) {
      if (this.#owned.has(p)) continue;
      this.#owned.set(p, {
        epoch: this.#nextEpoch++,
        position: undefined,
        fromStart: false,
        committed: undefined,
      });
    }
  }

  /** The membership is lost: nothing is owned until the next join, which starts over. */
  revokeAll(): void {
    this.#owned.clear();
    this.#memberId = undefined;
  }

  isCurrent(partition: number, epoch: number): boolean {
    return this.#owned.get(partition)?.epoch === epoch;
  }

  /** Owned partitions that still need a start position. */
  unresolved(): { partition: number; epoch: number; fromStart: boolean }[] {
    return [...this.#owned]
      .filter(([, o]) => o.position === undefined)
      .map(([partition, o]) => ({ partition, epoch: o.epoch, fromStart: o.fromStart }));
  }

  resolve(
    partition: number,
    epoch: number,
    position: bigint | undefined,
    committed: bigint | undefined,
  ): void {
    const o = this.#owned.get(partition);
    if (o === undefined || o.epoch !== epoch || position === undefined) return;
    o.position = position;
    o.fromStart = false;
    o.committed ??= committed;
  }

  /** Where to fetch each owned, resolved partition. */
  positions(): { partition: number; offset: bigint; epoch: number }[] {
    const out: { partition: number; offset: bigint; epoch: number }[] = [];
    for (const [partition, o] of this.#owned)
      if (o.position !== undefined) out.push({ partition, offset: o.position, epoch: o.epoch });
    return out;
  }

  /** Moves a position past fetched records; false (and no move) if the fetch is stale. */
  advance(partition: number, epoch: number, from: bigint, next: bigint): boolean {
    const o = this.#owned.get(partition);
    if (o === undefined || o.epoch !== epoch || o.position !== from) return false;
    if (next > from) o.position = next;
    return true;
  }

  /** Reads the partition again from where `startFrom` says (its offset fell out of the log). */
  restart(partition: number, epoch: number | undefined): void {
    const o = this.#owned.get(partition);
    if (o === undefined || o.epoch !== epoch) return;
    o.position = undefined;
    o.fromStart = true;
  }

  committed(partition: number, epoch: number, next: bigint): void {
    const o = this.#owned.get(partition);
    if (o !== undefined && o.epoch === epoch && (o.committed === undefined || next > o.committed))
      o.committed = next;
  }

  /** The committed offset of every owned partition (undefined while unresolved). */
  committedPositions(): { partition: number; committed: bigint | undefined }[] {
    return [...this.#owned].map(([partition, o]) => ({ partition, committed: o.committed }));
  }
}
