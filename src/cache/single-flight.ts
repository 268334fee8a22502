/**
 * Single-flight per key, batch-aware: concurrent callers asking for the same key share one load,
 * and the keys nobody is loading yet go out together in one batch call. This is what keeps a hot
 * key's expiry from sending every concurrent request of this process to the store at once.
 */
export class BatchSingleFlight<V> {
  readonly #inflight = new Map<string, Promise<V>>();

  /**
   * Values for `items` (same order), each identified by `keyOf(item)`. `loadBatch` receives only
   * the items whose key nobody is loading yet (the first of each key).
   */
  load<T>(
    items: readonly T[],
    keyOf: (item: T) => string,
    loadBatch: (fresh: T[]) => Promise<V[]>,
  ): Promise<V[]> {
    const fresh: T[] = [];
    const settlers = new Map<string, { resolve(v: V): void; reject(e: unknown): void }>();
    const promises = items.map((item) => {
      const key = keyOf(item);
      const existing = this.#inflight.get(key);
      if (existing !== undefined) return existing;
      const promise = new Promise<V>((resolve, reject) => settlers.set(key, { resolve, reject }));
      // A joiner may never come; keep an unobserved rejection from crashing the process.
      promise.catch(() => {});
      this.#inflight.set(key, promise);
      fresh.push(item);
      return promise;
    });
    if (fresh.length > 0) {
      loadBatch(fresh).then(
        (values) => {
          fresh.forEach((item, i) => {
            const key = keyOf(item);
            this.#inflight.delete(key);
            settlers.get(key)?.resolve(values[i] as V);
          });
        },
        (err: unknown) => {
          for (const item of fresh) {
            const key = keyOf(item);
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
