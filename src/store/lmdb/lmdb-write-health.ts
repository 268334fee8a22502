import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isLarderError, LarderError } from '../../errors.ts';
import { committed } from './lmdb-commit-failures.ts';
import type { LmdbEnv } from './lmdb-env.ts';

/** Size of the probe write: enough pages that a disk with room for it has room for small batches. */
const PROBE_BYTES = 64 * 1024;
/**
 * Free space the probe wants on the store's file system first. LMDB reuses the pages it freed,
 * so a small write can succeed on a full disk; this keeps a nearly full one counted as full.
 */
const PROBE_FREE_BYTES = 1024 * 1024;
const PROBE_KEY = 'writeProbe';

const healthByEnv = new WeakMap<LmdbEnv, LmdbWriteHealth>();

/**
 * The write health of one LMDB environment, shared by everything that writes it (the store, the
 * enrichment queue): whichever write meets the full disk, `/readyz` says so.
 */
export function writeHealthOf(env: LmdbEnv): LmdbWriteHealth {
  let health = healthByEnv.get(env);
  if (health === undefined) healthByEnv.set(env, (health = new LmdbWriteHealth()));
  return health;
}

/**
 * Whether the embedded store can write, for `/readyz`. A failed write (`LARDER_ERR_STORE_WRITE_FAILED`:
 * a full disk, an I/O error) marks the store unable to write; a probe clears it: asked while marked, at most once per `probeEveryMs`, it checks that the
 * file system has 1 MiB free, then writes and deletes a 64 KiB value (two commits, so the pages
 * are really written). Readiness thus recovers by itself once space is freed, even when nothing
 * else writes (a load balancer that stopped routing here sends no writes).
 */
export class LmdbWriteHealth {
  #failure: string | undefined;
  #probedAt = Number.NEGATIVE_INFINITY;
  #probing: Promise<string | undefined> | undefined;
  readonly #probeEveryMs: number;
  readonly #now: () => number;

  constructor(probeEveryMs = 1_000, now: () => number = Date.now) {
    this.#probeEveryMs = probeEveryMs;
    this.#now = now;
  }

  /**
   * Runs a write, recording a failure. Only the probe clears one (`clears`): small writes fit in
   * pages LMDB freed even on a full disk, so their success says nothing about the disk, and
   * readiness would flap with every background write.
   */
  async watch<T>(write: () => Promise<T>, clears = false): Promise<T> {
    try {
      const result = await write();
      if (clears) this.#failure = undefined;
      return result;
    } catch (err) {
      if (isLarderError(err) && err.code === 'LARDER_ERR_STORE_WRITE_FAILED') this.#failure = err.message;
      throw err;
    }
  }

  /** Why writes fail, or undefined when they work (probing again when due). */
  problem(env: LmdbEnv): Promise<string | undefined> {
    if (this.#failure === undefined) return Promise.resolve(undefined);
    if (this.#now() - this.#probedAt < this.#probeEveryMs) return Promise.resolve(this.#failure);
    this.#probing ??= this.#probe(env).finally(() => (this.#probing = undefined));
    return this.#probing;
  }

  async #probe(env: LmdbEnv): Promise<string | undefined> {
    this.#probedAt = this.#now();
    try {
      await this.watch(async () => {
        const fs = await statfs(dirname(env.path));
        const free = fs.bavail * fs.bsize;
        if (free < PROBE_FREE_BYTES) {
          throw new LarderError(
            'LARDER_ERR_STORE_WRITE_FAILED',
            `the LMDB store at ${env.path} cannot write: ${free} bytes free on its file system (is the disk full?)`,
          );
        }
        await committed(env.path, env.meta.put(PROBE_KEY, Buffer.alloc(PROBE_BYTES)));
        await committed(env.path, env.meta.remove(PROBE_KEY));
        await env.flushed();
      }, true);
    } catch {
      // `watch` recorded the failure.
    }
    return this.#failure;
  }
}
