import { LmdbDeadLetterStore } from '../../src/store/lmdb/lmdb-dead-letters.ts';
import { openLmdbEnv, type LmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * The real embedded stores in a fresh temp dir: the online store and the dead-letter table each in
 * their own LMDB environment, so a test can close the store (an outage) and still read the
 * dead letters.
 */
export interface RealStores {
  readonly store: LmdbStore;
  readonly deadLetters: LmdbDeadLetterStore;
  close(): Promise<void>;
}

export async function openRealStores(): Promise<RealStores> {
  const storeDir = tempDir('larder-ingest-store-');
  const dlqDir = tempDir('larder-ingest-dlq-');
  const store = new LmdbStore(storeDir.dir);
  await store.open();
  const dlqEnv: LmdbEnv = openLmdbEnv(dlqDir.dir);
  const deadLetters = new LmdbDeadLetterStore(dlqEnv);
  return {
    store,
    deadLetters,
    async close() {
      await store.close().catch(() => undefined);
      await dlqEnv.close();
      storeDir.remove();
      dlqDir.remove();
    },
  };
}
