import type { LmdbEnv } from './lmdb-env.ts';
import { appendRow } from './lmdb-rows.ts';
import { applyStaticWrite } from './lmdb-static.ts';
import type { StoredStatic } from './lmdb-static.ts';
import type { StoreWrite } from './online-store.ts';

/**
 * Applies a validated batch, in array order. Must run inside a write transaction (it uses the
 * `*Sync` calls, which join the current one). Shared by the in-thread path and the write thread.
 */
export function applyWrites(env: LmdbEnv, writes: readonly StoreWrite[], now: number): void {
  for (const write of writes) {
    if (write.kind === 'action') {
      appendRow(env, write);
    } else {
      const stored = env.statics.get(write.pk) as StoredStatic | undefined;
      const next = applyStaticWrite(stored, write, now);
      if (next !== undefined) env.statics.putSync(write.pk, next);
    }
  }
}
