/**
 * Single-flight per key, batch-aware: concurrent callers asking for the same key share one load,
 * and the keys nobody is loading yet go out together in one batch call. This is what keeps a hot
 * key's expiry from sending every concurrent request of this process to the store at once.
 */
export class BatchSingleFlight<V> {
  readonly #inflight = new Map<string, Promise<V>>();

  /** Values for `keys` (same order). `loadBatch` receives only the keys not already in flight. */
  load(keys: readonly string[], loadBatch: (keys: string[]) => Promise<V[]>): Promise<V[]> {
    const fresh: string[] = [];
    const settlers = new Map<string, { resolve(v: V): void; reject(e: unknown): void }>();
    const promises = keys.map((key) => {
      const existing = this.#inflight.get(key);
      if (existing !== undefined) return existing;
      const promise = new Promise<V>((resolve, reject) => settlers.set(key, { resolve, reject }));
      // A joiner may never come; keep an unobserved rejection from crashing the process.
      promise.catch(() => {});
      this.#inflight.set(key, promise);
      fresh.push(key);
      return promise;
    });
    if (fresh.length > 0) {
      loadBatch(fresh).then(
        (values) => {
          fresh.forEach((key, i) => {
            this.#inflight.delete(key);
            settlers.get(key)?.resolve(values[i] as V);
          });
        },
        (err: unknown) => {
          for (const key of fresh) {
            this.#inflight.delete(key);
            settlers.get(key)?.reject(err);
          }
        },
      );
    }
    return Promise.all(promises);
  }

  /** Whether a load of `key` is under way. */
  has(key: string): boolean {
    return this.#inflight.has(key);
  }
}
