import type { OnlineStore, StoreWrite } from '../../store/online-store.ts';

/**
 * The store as the ingestor sees it, telling `listener` about every batch once it is durable
 * (the console's freshness). Reads, purges and the rest go straight to `store`; only `write`
 * differs, and a listener that throws never fails the write.
 */
export function tapWrites(
  store: OnlineStore,
  listener: (writes: readonly StoreWrite[]) => void,
): OnlineStore {
  return {
    get name() {
      return store.name;
    },
    open: () => store.open(),
    async write(writes) {
      await store.write(writes);
      try {
        listener(writes);
      } catch {
        // Observing a write must never fail it.
      }
    },
    getStatic: (pks) => store.getStatic(pks),
    getRanges: (queries) => store.getRanges(queries),
    purgeExpired: (now) => store.purgeExpired(now),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
