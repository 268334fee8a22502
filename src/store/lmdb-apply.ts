import type { LmdbEnv } from './lmdb-env.ts';
import { appendRow, saveRowMetas, type RowMetaChanges } from './lmdb-rows.ts';
import { applyStaticWrite } from './lmdb-static.ts';
import type { StoredStatic } from './lmdb-static.ts';
import type { StoreWrite } from './online-store.ts';

/**
 * Applies a validated batch, in array order. Must run inside a write transaction (it uses the
 * `*Sync` calls, which join the current one). Shared by the in-thread path and the write thread.
 * Row metas are saved once per pk at the end of the batch (`RowMetaChanges` in `lmdb-rows.ts`).
 */
export function applyWrites(env: LmdbEnv, writes: readonly StoreWrite[], now: number): void {
  const metas: RowMetaChanges = new Map();
  try {
    for (const write of writes) {
      if (write.kind === 'action') {
        appendRow(env, write, metas);
      } else {
        const stored = env.statics.get(write.pk) as StoredStatic | undefined;
        const next = applyStaticWrite(stored, write, now);
        if (next !== undefined) env.statics.putSync(write.pk, next);
      }
    }
  } finally {
    // Also when a write threw: the rows written before it stay in the transaction, so their
    // counts must too (a failed callback does not roll back an lmdb-js batch transaction).
    saveRowMetas(env, metas);
  }
}
