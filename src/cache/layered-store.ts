/**
 * The layered read path, as an `OnlineStore` wrapper: the serving layer and the ingestor use it
 * exactly like a store.
 *
 * Read: the in-process level answers what it holds (synchronously); the rest goes to Redis (one
 * pipeline for everything asked in the same tick, so a request's `getStatic` and `getRanges`
 * share it); what is still missing is loaded from the store through a per-key single flight.
 * Results merge in request order. Loads are back-filled into the levels above off the hot path,
 * under leases, so a fill that raced a write never lands. A hit whose soft TTL has passed, or that
 * XFetch picks for an early refresh, is served and refreshed in the background.
 *
 * Write: the store first (durable), then each level of the group's policy: Redis, then local.
 * `write-through` updates entries the level holds; `write-around` drops them; both revoke leases.
 *
 * Keys of groups without a `cache:` policy, and range reads asking more than `maxCount` rows, go
 * straight to the store.
 */
import type { RegistryHolder } from '../registry/registry-holder.ts';
import type { CacheLevelName, FeatureDef, Registry } from '../registry/types.ts';
import type { ActionRow, OnlineStore, RangeQuery, StaticValue, StoreWrite } from '../store/online-store.ts';
import type { EntryFreshness, FillEntry, LevelChange } from './cache-level.ts';
import { CacheMetrics } from './cache-metrics.ts';
import { groupOf, jittered, shouldRefreshEarly } from './cache-policy.ts';
import type { LocalCacheLevel } from './local-level.ts';
import { rangeReads, staticReads, type KeyRoute, type ReadKind, type RoutedKey } from './read-kinds.ts';
import type { RedisCacheLevel, WrittenKey } from './redis-level.ts';

export type { WrittenKey } from './redis-level.ts';

export interface LayeredStoreOptions {
  readonly store: OnlineStore;
  readonly registry: RegistryHolder;
  readonly local?: LocalCacheLevel | undefined;
  readonly redis?: RedisCacheLevel | undefined;
  readonly metrics?: CacheMetrics;
  /** The clock for TTLs; tests pass a settable one. Default `Date.now`. */
  readonly now?: () => number;
  /** XFetch's beta: above 1 refreshes earlier. Default 1. */
  readonly xfetchBeta?: number;
  /** Failures of background work (fills, refreshes), for the log. */
  readonly onBackgroundError?: (err: unknown) => void;
}

/** One key of a read, on its way down the levels. */
interface CachedRead<L> extends RoutedKey {
  /** Position of the query in the caller's request. */
  readonly index: number;
  readonly lookup: L;
  /** The local level's lease, taken when it missed a key that Redis may hold. */
  localLease: string | undefined;
}

/** A Redis hit to copy into the local level, under the lease the local miss took. */
interface Backfill<H> {
  readonly key: RoutedKey;
  readonly lease: string;
  readonly hit: H;
}

/** What the layered store adds to `OnlineStore`. */
export interface LayeredStore extends OnlineStore {
  readonly metrics: CacheMetrics;
  /** Resolves once every background fill and refresh started so far has finished. */
  idle(): Promise<void>;
  /**
   * Calls `listener` with the keys of each write through this store once it has reached the store
   * and the levels (the serving side's hot caches drop what the write changed). With a Redis
   * level, writes other processes made through theirs are told too (Redis pub/sub; `remote`),
   * and their keys are dropped from this process's local level first. Returns the unsubscriber.
   */
  onWrite(listener: (written: readonly WrittenKey[] | 'all', remote: boolean) => void): () => void;
  /**
   * Tells the `onWrite` listeners, with `'all'`, that writes were made around this store that it
   * cannot name key by key (a batch job's task threads write the store directly).
   */
  noteWritesElsewhere(): void;
}

export function isLayeredStore(store: OnlineStore): store is LayeredStore {
  return store instanceof LayeredOnlineStore;
}

export function createLayeredStore(options: LayeredStoreOptions): LayeredStore {
  return new LayeredOnlineStore(options);
}

class LayeredOnlineStore implements LayeredStore {
  readonly name: string;
  readonly metrics: CacheMetrics;
  readonly #store: OnlineStore;
  readonly #registry: RegistryHolder;
  readonly #local: LocalCacheLevel | undefined;
  readonly #redis: RedisCacheLevel | undefined;
  readonly #now: () => number;
  readonly #beta: number;
  readonly #onError: (err: unknown) => void;
  readonly #statics = staticReads();
  readonly #ranges = rangeReads();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #writeListeners = new Set<(written: readonly WrittenKey[] | 'all', remote: boolean) => void>();
  #stopRemoteWrites: (() => void) | undefined;

  constructor(o: LayeredStoreOptions) {
    this.#store = o.store;
    this.#registry = o.registry;
    this.#local = o.local;
    this.#redis = o.redis;
    this.#now = o.now ?? Date.now;
    this.#beta = o.xfetchBeta ?? 1;
    this.#onError = o.onBackgroundError ?? (() => {});
    this.metrics = o.metrics ?? new CacheMetrics();
    this.name = [o.store.name, o.local ? 'local' : '', o.redis ? 'redis' : ''].filter(Boolean).join('+');
  }

  async open(): Promise<void> {
    await this.#store.open();
    await this.#redis?.open();
  }

  onWrite(listener: (written: readonly WrittenKey[] | 'all', remote: boolean) => void): () => void {
    this.#writeListeners.add(listener);
    // Only a process that holds something to drop (a server) listens to the others' writes.
    this.#stopRemoteWrites ??= this.#redis?.subscribeWritten((written) => {
      this.#local?.forget(written === 'all' ? 'all' : written.map(([, pk]) => pk));
      for (const l of this.#writeListeners) l(written, true);
    });
    return () => void this.#writeListeners.delete(listener);
  }

  noteWritesElsewhere(): void {
    for (const listener of this.#writeListeners) listener('all', false);
  }

  async write(writes: readonly StoreWrite[]): Promise<void> {
    await this.#writeLevels(writes);
    const keys = writes.map((w): WrittenKey => [w.kind, w.pk]);
    this.#redis?.publishWritten(keys);
    for (const listener of this.#writeListeners) listener(keys, false);
  }

  async #writeLevels(writes: readonly StoreWrite[]): Promise<void> {
    await this.#store.write(writes);
    if (this.#local === undefined && this.#redis === undefined) return;
    const registry = this.#registry.current;
    const now = this.#now();
    const redisChanges: LevelChange[] = [];
    const localChanges: LevelChange[] = [];
    for (const write of writes) {
      const policy = groupOf(registry, write.pk)?.cache;
      if (policy === undefined) continue;
      const change: LevelChange = {
        write,
        mode: policy.write,
        expiresAt: now + jittered(policy.ttlMs, policy.jitter),
      };
      if (policy.levels.includes('redis') && this.#redis !== undefined) redisChanges.push(change);
      if (policy.levels.includes('local') && this.#local !== undefined) localChanges.push(change);
    }
    // Redis before local: a local fill from Redis must not outlive the write it missed.
    if (redisChanges.length > 0) await this.#redis?.apply(redisChanges);
    this.#local?.applyNow(localChanges);
  }

  getStatic(pks: readonly string[]): Promise<(StaticValue | undefined)[]> {
    return this.#read(this.#statics, pks);
  }

  getRanges(queries: readonly RangeQuery[]): Promise<ActionRow[][]> {
    return this.#read(this.#ranges, queries);
  }

  /**
   * The cascade, for either kind of read. Everything up to the Redis read runs synchronously, so a
   * request's static and range reads join the tick's one Redis pipeline, and the local leases are
   * taken in the same tick as the lookups that missed.
   */
  async #read<Q, L, H extends EntryFreshness, V>(
    kind: ReadKind<Q, L, H, V>,
    queries: readonly Q[],
  ): Promise<V[]> {
    const now = this.#now();
    const registry = this.#registry.current;
    const out = new Array<V>(queries.length);
    const direct: { readonly index: number; readonly query: Q }[] = [];
    const toLocal: CachedRead<L>[] = [];
    const toRedis: CachedRead<L>[] = [];
    const toStore: CachedRead<L>[] = [];
    queries.forEach((query, index) => {
      const pk = kind.pkOf(query);
      const route = this.#route(registry, pk, kind.featureType);
      const lookup = route === undefined ? undefined : kind.lookupOf(query, route.def, now);
      if (route === undefined || lookup === undefined) return void direct.push({ index, query });
      const read: CachedRead<L> = { index, pk, route, lookup, localLease: undefined };
      (route.local ? toLocal : toRedis).push(read);
    });

    const local = this.#local;
    if (local !== undefined && toLocal.length > 0) {
      const hits = kind.hitsOf(local.readNow(kind.request(toLocal.map((read) => read.lookup)), now));
      let found = 0;
      toLocal.forEach((read, n) => {
        const hit = hits[n];
        if (hit !== undefined) {
          found++;
          out[read.index] = kind.answerOfHit(hit);
          this.#maybeRefresh(kind, read, hit, now);
        } else if (read.route.redis) {
          read.localLease = local.leaseNow([read.pk])[0];
          toRedis.push(read);
        } else {
          toStore.push(read);
        }
      });
      this.metrics.lookups('local', found, toLocal.length - found);
    }

    const redisRead = this.#redisRead(kind, toRedis, now);
    const directRead =
      direct.length > 0
        ? kind.readDirect(
            this.#store,
            direct.map((d) => d.query),
          )
        : undefined;
    if (redisRead !== undefined) {
      const hits = kind.hitsOf(await redisRead);
      let found = 0;
      const backfill: Backfill<H>[] = [];
      toRedis.forEach((read, n) => {
        const hit = hits[n];
        if (hit === undefined) return void toStore.push(read);
        found++;
        out[read.index] = kind.answerOfHit(hit);
        if (read.localLease !== undefined) backfill.push({ key: read, lease: read.localLease, hit });
        this.#maybeRefresh(kind, read, hit, now);
      });
      this.metrics.lookups('redis', found, hits.length - found);
      this.#backfillLocal(kind, backfill, now);
    } else {
      toStore.push(...toRedis);
    }

    if (toStore.length > 0) {
      const entries = await this.#load(kind, toStore);
      toStore.forEach((read, n) => (out[read.index] = kind.answerOfEntry(entries[n], read.lookup)));
    }
    if (directRead !== undefined) {
      const values = await directRead;
      direct.forEach((d, n) => (out[d.index] = kind.answerOfDirect(values[n])));
    }
    return out;
  }

  async purgeExpired(now?: number): Promise<number> {
    return this.#store.purgeExpired(now);
  }

  ping(): Promise<boolean> {
    // Cache levels are optional for serving: a store that answers is ready.
    return this.#store.ping();
  }

  writeProblem(): Promise<string | undefined> {
    return this.#store.writeProblem?.() ?? Promise.resolve(undefined);
  }

  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async close(): Promise<void> {
    await this.idle();
    this.#stopRemoteWrites?.();
    await this.#redis?.close();
    await this.#local?.close();
    await this.#store.close();
  }

  #route(registry: Registry, pk: string, kind: FeatureDef['featureType']): KeyRoute | undefined {
    const def = groupOf(registry, pk);
    const policy = def?.cache;
    if (def === undefined || policy === undefined || def.featureType !== kind) return undefined;
    const local = this.#local !== undefined && policy.levels.includes('local');
    const redis = this.#redis !== undefined && policy.levels.includes('redis');
    return local || redis ? { def, policy, local, redis } : undefined;
  }

  #redisRead<L>(
    kind: ReadKind<unknown, L, EntryFreshness, unknown>,
    reads: readonly CachedRead<L>[],
    now: number,
  ) {
    if (this.#redis === undefined || reads.length === 0 || !this.#redis.available()) return undefined;
    return this.#redis.read(kind.request(reads.map((read) => read.lookup)), now);
  }

  /**
   * Copies Redis hits into the local level, under the leases taken when the local level missed. A
   * hit that holds only part of the entry (some rows) is read again from Redis complete, in the
   * background, for the keys the local level would admit.
   */
  #backfillLocal<L, H extends EntryFreshness>(
    kind: ReadKind<unknown, L, H, unknown>,
    backfill: readonly Backfill<H>[],
    now: number,
  ): void {
    if (kind.hitIsComplete) {
      const entries: FillEntry[] = [];
      for (const { key, lease, hit } of backfill) {
        const entry = kind.entryFromLevel(key, lease, hit, now);
        if (entry !== undefined) entries.push(entry);
      }
      return this.#fillLocal(entries);
    }
    const local = this.#local;
    const redis = this.#redis;
    if (local === undefined || redis === undefined) return;
    const wanted = backfill.filter(({ key }) => local.wouldAdmit(key.pk));
    if (wanted.length === 0) return;
    const at = this.#now();
    this.#background(
      redis.read(kind.request(wanted.map(({ key }) => kind.completeLookupOf(key))), at).then((result) => {
        const hits = kind.hitsOf(result);
        const entries: FillEntry[] = [];
        wanted.forEach(({ key, lease }, n) => {
          const hit = hits[n];
          const entry = hit === undefined ? undefined : kind.entryFromLevel(key, lease, hit, at);
          if (entry !== undefined) entries.push(entry);
        });
        this.#fillLocal(entries);
      }),
    );
  }

  #fillLocal(entries: FillEntry[]): void {
    if (entries.length === 0 || this.#local === undefined) return;
    const local = this.#local;
    this.#background(
      local.fill(entries).then((landed) => this.metrics.fills('local', landed, entries.length - landed)),
    );
  }

  #maybeRefresh<V>(
    kind: ReadKind<never, unknown, EntryFreshness, V>,
    key: RoutedKey,
    hit: EntryFreshness,
    now: number,
  ): void {
    if (!shouldRefreshEarly(now, hit.softExpiresAt, hit.loadMs, this.#beta)) return;
    if (kind.flight.has(key.pk)) return;
    this.metrics.refresh(now >= hit.softExpiresAt ? 'soft-expired' : 'xfetch');
    this.#background(this.#load(kind, [key]));
  }

  /**
   * Loads complete entries from the store (one single flight per key), under leases taken in every
   * level the key is cached in before the read, and fills the levels with them.
   */
  #load<V>(kind: ReadKind<never, unknown, EntryFreshness, V>, keys: readonly RoutedKey[]): Promise<V[]> {
    return kind.flight.load(
      keys,
      (key) => key.pk,
      async (fresh) => {
        const leases = await this.#takeLeases(fresh);
        const started = performance.now();
        const entries = await kind.readEntries(this.#store, fresh);
        const loadMs = Math.max(1, Math.round(performance.now() - started));
        this.metrics.lookups('store', fresh.length, 0);
        const now = this.#now();
        this.#fillLevels(fresh, leases, (key, lease, i) =>
          kind.entryFromStore(key, lease, entries[i], now, loadMs),
        );
        return entries;
      },
    );
  }

  /** Leases in every level a key is cached in, taken before the store read they guard. */
  async #takeLeases(keys: readonly RoutedKey[]): Promise<Map<CacheLevelName, (string | undefined)[]>> {
    const leases = new Map<CacheLevelName, (string | undefined)[]>();
    if (this.#local !== undefined) {
      const local = this.#local;
      leases.set(
        'local',
        keys.map((key) => (key.route.local ? local.leaseNow([key.pk])[0] : undefined)),
      );
    }
    const redisKeys = keys.filter((key) => key.route.redis).map((key) => key.pk);
    if (this.#redis !== undefined && redisKeys.length > 0) {
      const got = await this.#redis.lease(redisKeys);
      const byPk = new Map(redisKeys.map((pk, n) => [pk, got[n]]));
      leases.set(
        'redis',
        keys.map((key) => byPk.get(key.pk)),
      );
    }
    return leases;
  }

  #fillLevels(
    keys: readonly RoutedKey[],
    leases: Map<CacheLevelName, (string | undefined)[]>,
    entryOf: (key: RoutedKey, lease: string, i: number) => FillEntry | undefined,
  ): void {
    for (const [level, list] of leases) {
      const entries: FillEntry[] = [];
      keys.forEach((key, i) => {
        const lease = list[i];
        if (lease === undefined) return;
        const entry = entryOf(key, lease, i);
        if (entry !== undefined) entries.push(entry);
      });
      if (entries.length === 0) continue;
      if (level === 'local') this.#fillLocal(entries);
      else if (this.#redis !== undefined) this.#background(this.#redis.fill(entries));
    }
  }

  #background(work: Promise<unknown>): void {
    const tracked: Promise<unknown> = work.catch(this.#onError).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }
}
