import type { Shard } from '@aws-sdk/client-kinesis';
import type { CheckpointStore } from './kinesis-checkpoints.ts';

/** A shard this process may read now, and where: after `checkpoint`, else from `startFrom`. */
export interface ShardGrant {
  readonly id: string;
  readonly checkpoint: string | undefined;
}

/**
 * Who reads which shard of one Kinesis stream, and where each shard's position is kept. The local
 * kind (below) gives every shard to this process and keeps positions in LMDB; the lease kind
 * (`kinesis-leases.ts`) shares the shards between processes through a DynamoDB table.
 */
export interface ShardCoordinator {
  /**
   * Given the stream's shards (listed now) and those this process reads, which to start reading and
   * which to stop. A shard starts only when its parents ended, so an entity's order survives a
   * split or a merge.
   */
  assign(
    shards: readonly Shard[],
    reading: ReadonlySet<string>,
  ): Promise<{ start: ShardGrant[]; stop: string[] }>;
  /**
   * Moves a shard's position forward to `sequence` (and/or marks it ended), durably. False when this
   * process no longer owns the shard: the position is not moved and the shard must stop.
   */
  advance(shardId: string, sequence: string | undefined, ended: boolean): Promise<boolean>;
  close(): Promise<void>;
}

/** True when a shard's parents (if any) are gone from the stream or ended. */
export function parentsEnded(
  shard: Shard,
  listed: ReadonlySet<string>,
  ended: (id: string) => boolean,
): boolean {
  const done = (id: string | undefined): boolean => id === undefined || !listed.has(id) || ended(id);
  return done(shard.ParentShardId) && done(shard.AdjacentParentShardId);
}

/** Every shard to this one process; positions in `<data>/stream-checkpoints.mdb` under `prefix`. */
export class LocalShardCoordinator implements ShardCoordinator {
  readonly #store: CheckpointStore;
  readonly #prefix: string;
  readonly #release: () => Promise<void>;

  constructor(store: CheckpointStore, prefix: string, release: () => Promise<void>) {
    this.#store = store;
    this.#prefix = prefix;
    this.#release = release;
  }

  async assign(shards: readonly Shard[], reading: ReadonlySet<string>) {
    const listed = new Set(shards.map((s) => s.ShardId!));
    const ended = (id: string): boolean => this.#store.get(this.#prefix + id)?.ended === true;
    const start: ShardGrant[] = [];
    for (const shard of shards) {
      const id = shard.ShardId!;
      if (reading.has(id) || ended(id) || !parentsEnded(shard, listed, ended)) continue;
      start.push({ id, checkpoint: this.#store.get(this.#prefix + id)?.sequence });
    }
    return { start, stop: [] };
  }

  async advance(shardId: string, sequence: string | undefined, ended: boolean): Promise<boolean> {
    await this.#store.advance(this.#prefix + shardId, sequence, ended);
    return true;
  }

  close(): Promise<void> {
    return this.#release();
  }
}
