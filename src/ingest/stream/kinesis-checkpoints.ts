import path from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { committed, handleOrphanedCommitFailures } from '../../store/lmdb/lmdb-commit-failures.ts';

/** A shard's durable position: the last finished sequence number, and whether the shard is done. */
export interface ShardCheckpoint {
  readonly sequence: string | undefined;
  /** True once every record of a closed (resharded) shard is finished: its children may start. */
  readonly ended: boolean;
}

/**
 * Durable, forward-only Kinesis checkpoints in a small LMDB file of their own
 * (`<dataDir>/stream-checkpoints.mdb`), keyed by `group / stream / shard`. A write that would move
 * a checkpoint backwards is ignored, so a late commit can never rewind a shard.
 */
export class CheckpointStore {
  readonly #db: RootDatabase<ShardCheckpoint, string>;
  readonly #path: string;

  constructor(dataDir: string) {
    this.#path = path.join(dataDir, 'stream-checkpoints.mdb');
    handleOrphanedCommitFailures();
    this.#db = open<ShardCheckpoint, string>({ path: this.#path, noSubdir: true });
  }

  get(key: string): ShardCheckpoint | undefined {
    return this.#db.get(key);
  }

  /** Moves the checkpoint forward to `sequence` (and/or marks the shard ended); resolves once durable. */
  async advance(key: string, sequence: string | undefined, ended = false): Promise<void> {
    await committed(
      this.#path,
      this.#db.transaction(() => {
        const current = this.#db.get(key);
        const forward =
          sequence !== undefined &&
          (current?.sequence === undefined || compareSequence(sequence, current.sequence) > 0);
        if (!forward && !(ended && current?.ended !== true)) return;
        void this.#db.put(key, {
          sequence: forward ? sequence : current?.sequence,
          ended: ended || current?.ended === true,
        });
      }),
    );
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

const shared = new Map<string, { store: CheckpointStore; users: number }>();

/** One checkpoint store per data directory, shared by every Kinesis source of the process. */
export function acquireCheckpointStore(dataDir: string): {
  store: CheckpointStore;
  release(): Promise<void>;
} {
  const key = path.resolve(dataDir);
  let entry = shared.get(key);
  if (entry === undefined) {
    entry = { store: new CheckpointStore(key), users: 0 };
    shared.set(key, entry);
  }
  entry.users += 1;
  const held = entry;
  let released = false;
  return {
    store: held.store,
    async release() {
      if (released) return;
      released = true;
      held.users -= 1;
      if (held.users === 0) {
        shared.delete(key);
        await held.store.close();
      }
    },
  };
}

/** Kinesis sequence numbers are decimal strings of up to 128 bits. */
export function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
