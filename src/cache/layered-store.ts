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
import type { CacheLevelName, CachePolicy, FeatureDef, Registry } from '../registry/types.ts';
import type { ActionRow, OnlineStore, RangeQuery, StaticValue, StoreWrite } from '../store/online-store.ts';
import type { EntryFreshness, FillEntry, LevelChange, RangeLookup } from './cache-level.ts';
import { CacheMetrics } from './cache-metrics.ts';
import { groupOf, jittered, lifetimeFor, shouldRefreshEarly } from './cache-policy.ts';
import type { LocalCacheLevel } from './local-level.ts';
import type { RedisCacheLevel } from './redis-level.ts';
import { selectRows } from './row-order.ts';
import { BatchSingleFlight } from './single-flight.ts';

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

interface Plan {
  readonly def: FeatureDef;
  readonly policy: CachePolicy;
  readonly local: boolean;
  readonly redis: boolean;
}

/** What the layered store adds to `OnlineStore`. */
export interface LayeredStore extends OnlineStore {
  readonly metrics: CacheMetrics;
  /** Resolves once every background fill and refresh started so far has finished. */
  idle(): Promise<void>;
  /**
   * Calls `listener` after each write through this store has reached the store and the levels
   * (the serving side's hot entity cache drops what the write changed). Returns the unsubscriber.
   */
  onWrite(listener: (writes: readonly StoreWrite[]) => void): () => void;
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
  readonly #staticFlight = new BatchSingleFlight<StaticValue | undefined>();
  readonly #rangeFlight = new BatchSingleFlight<ActionRow[]>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #writeListeners = new Set<(writes: readonly StoreWrite[]) => void>();

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

  onWrite(listener: (writes: readonly StoreWrite[]) => void): () => void {
    this.#writeListeners.add(listener);
    return () => void this.#writeListeners.delete(listener);
  }

  async write(writes: readonly StoreWrite[]): Promise<void> {
    await this.#writeLevels(writes);
    for (const listener of this.#writeListeners) listener(writes);
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

  async getStatic(pks: readonly string[]): Promise<(StaticValue | undefined)[]> {
    const now = this.#now();
    const registry = this.#registry.current;
    const out: (StaticValue | undefined)[] = new Array<StaticValue | undefined>(pks.length);
    const plans = pks.map((pk) => this.#plan(registry, pk, 'static'));
    const direct: number[] = [];
    const toRedis: number[] = [];
    const toStore: number[] = [];
    const localAsk: number[] = [];
    plans.forEach((plan, i) => {
      if (plan === undefined) direct.push(i);
      else if (plan.local) localAsk.push(i);
      else toRedis.push(i);
    });
    const localLeases = new Map<number, string>();
    if (this.#local !== undefined && localAsk.length > 0) {
      const local = this.#local;
      const { statics } = local.readNow({ statics: localAsk.map((i) => pks[i] as string), ranges: [] }, now);
      let hits = 0;
      statics.forEach((hit, n) => {
        const i = localAsk[n] as number;
        const plan = plans[i] as Plan;
        if (hit !== undefined) {
          hits++;
          out[i] = hit.value;
          this.#maybeRefresh('static', pks[i] as string, plan, hit, now);
        } else if (plan.redis) {
          localLeases.set(i, local.leaseNow([pks[i] as string])[0] as string);
          toRedis.push(i);
        } else {
          toStore.push(i);
        }
      });
      this.metrics.lookups('local', hits, localAsk.length - hits);
    }
    // Everything up to here ran synchronously, so this read joins the tick's one Redis pipeline.
    const redisRead = this.#redisRead(
      toRedis.map((i) => pks[i] as string),
      [],
      now,
    );
    const directRead =
      direct.length > 0 ? this.#store.getStatic(direct.map((i) => pks[i] as string)) : undefined;
    if (redisRead !== undefined) {
      const { statics } = await redisRead;
      let hits = 0;
      const backfill: FillEntry[] = [];
      statics.forEach((hit, n) => {
        const i = toRedis[n] as number;
        const pk = pks[i] as string;
        const plan = plans[i] as Plan;
        if (hit === undefined) return toStore.push(i);
        hits++;
        out[i] = hit.value;
        const lease = localLeases.get(i);
        if (lease !== undefined) {
          const life = this.#backfillLife(plan, hit, now);
          if (life !== undefined) backfill.push({ kind: 'static', pk, lease, value: hit.value, life });
        }
        this.#maybeRefresh('static', pk, plan, hit, now);
      });
      this.metrics.lookups('redis', hits, statics.length - hits);
      this.#fillLocal(backfill);
    } else {
      toStore.push(...toRedis);
    }
    if (toStore.length > 0) {
      const values = await this.#loadStatics(
        toStore.map((i) => pks[i] as string),
        toStore.map((i) => plans[i] as Plan),
      );
      toStore.forEach((i, n) => (out[i] = values[n]));
    }
    if (directRead !== undefined) {
      const values = await directRead;
      direct.forEach((i, n) => (out[i] = values[n]));
    }
    return out;
  }

  async getRanges(queries: readonly RangeQuery[]): Promise<ActionRow[][]> {
    const now = this.#now();
    const registry = this.#registry.current;
    const out: ActionRow[][] = queries.map(() => []);
    const lookups: (RangeLookup | undefined)[] = [];
    const plans = queries.map((q) => {
      const plan = this.#plan(registry, q.pk, 'action');
      const ok = plan !== undefined && q.count > 0 && q.count <= plan.def.maxCount;
      lookups.push(ok ? lookupOf(q, plan.def, now) : undefined);
      return ok ? plan : undefined;
    });
    const direct: number[] = [];
    const toRedis: number[] = [];
    const toStore: number[] = [];
    const localAsk: number[] = [];
    plans.forEach((plan, i) => {
      if (plan === undefined) direct.push(i);
      else if (plan.local) localAsk.push(i);
      else toRedis.push(i);
    });
    const localLeases = new Map<number, string>();
    if (this.#local !== undefined && localAsk.length > 0) {
      const local = this.#local;
      const { ranges } = local.readNow(
        { statics: [], ranges: localAsk.map((i) => lookups[i] as RangeLookup) },
        now,
      );
      let hits = 0;
      ranges.forEach((hit, n) => {
        const i = localAsk[n] as number;
        const plan = plans[i] as Plan;
        if (hit !== undefined) {
          hits++;
          out[i] = hit.rows;
          this.#maybeRefresh('action', queries[i]?.pk as string, plan, hit, now);
        } else if (plan.redis) {
          localLeases.set(i, local.leaseNow([queries[i]?.pk as string])[0] as string);
          toRedis.push(i);
        } else {
          toStore.push(i);
        }
      });
      this.metrics.lookups('local', hits, localAsk.length - hits);
    }
    const redisRead = this.#redisRead(
      [],
      toRedis.map((i) => lookups[i] as RangeLookup),
      now,
    );
    const directRead =
      direct.length > 0 ? this.#store.getRanges(direct.map((i) => queries[i] as RangeQuery)) : undefined;
    if (redisRead !== undefined) {
      const { ranges } = await redisRead;
      let hits = 0;
      const refill: number[] = [];
      ranges.forEach((hit, n) => {
        const i = toRedis[n] as number;
        if (hit === undefined) return toStore.push(i);
        hits++;
        out[i] = hit.rows;
        // A Redis hit holds only the rows this query asked for, not the complete list the local
        // level needs: that is fetched from Redis in the background.
        if (localLeases.has(i)) refill.push(i);
        this.#maybeRefresh('action', queries[i]?.pk as string, plans[i] as Plan, hit, now);
      });
      this.metrics.lookups('redis', hits, ranges.length - hits);
      this.#backfillLocalRanges(
        refill.map((i) => queries[i]?.pk as string),
        refill.map((i) => plans[i] as Plan),
        refill.map((i) => localLeases.get(i) as string),
      );
    } else {
      toStore.push(...toRedis);
    }
    if (toStore.length > 0) {
      const lists = await this.#loadRanges(
        toStore.map((i) => queries[i]?.pk as string),
        toStore.map((i) => plans[i] as Plan),
      );
      toStore.forEach((i, n) => {
        const l = lookups[i] as RangeLookup;
        out[i] = selectRows(lists[n] ?? [], l.count, l.minTs, l.expiredAtOrBefore);
      });
    }
    if (directRead !== undefined) {
      const rows = await directRead;
      direct.forEach((i, n) => (out[i] = rows[n] ?? []));
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

  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async close(): Promise<void> {
    await this.idle();
    await this.#redis?.close();
    await this.#local?.close();
    await this.#store.close();
  }

  #plan(registry: Registry, pk: string, kind: FeatureDef['featureType']): Plan | undefined {
    const def = groupOf(registry, pk);
    const policy = def?.cache;
    if (def === undefined || policy === undefined || def.featureType !== kind) return undefined;
    const local = this.#local !== undefined && policy.levels.includes('local');
    const redis = this.#redis !== undefined && policy.levels.includes('redis');
    return local || redis ? { def, policy, local, redis } : undefined;
  }

  #redisRead(statics: string[], ranges: RangeLookup[], now: number) {
    if (this.#redis === undefined || (statics.length === 0 && ranges.length === 0)) return undefined;
    if (!this.#redis.available()) return undefined;
    return this.#redis.read({ statics, ranges }, now);
  }

  /** A local back-fill of a Redis hit keeps the Redis entry's freshness, within the local policy. */
  #backfillLife(plan: Plan, hit: EntryFreshness & { value: StaticValue | undefined }, now: number) {
    const own = lifetimeFor(plan.policy, plan.def, now, hit.loadMs, hit.value === undefined, hit.value);
    if (hit.value === undefined && plan.policy.negativeTtlMs === 0) return undefined;
    return { ...own, softExpiresAt: Math.min(own.softExpiresAt, hit.softExpiresAt) };
  }

  /** Copies complete row lists from Redis into the local level (one pipeline), under leases. */
  #backfillLocalRanges(pks: string[], plans: Plan[], leases: string[]): void {
    const local = this.#local;
    const redis = this.#redis;
    if (local === undefined || redis === undefined) return;
    const wanted = pks.map((pk, i) => i).filter((i) => local.wouldAdmit(pks[i] as string));
    if (wanted.length === 0) return;
    const now = this.#now();
    const lookups = wanted.map((i) => ({
      pk: pks[i] as string,
      count: (plans[i] as Plan).def.maxCount,
      minTs: -Infinity,
      expiredAtOrBefore: -Infinity,
    }));
    this.#background(
      redis.read({ statics: [], ranges: lookups }, now).then(({ ranges }) => {
        const entries: FillEntry[] = [];
        ranges.forEach((hit, n) => {
          const i = wanted[n] as number;
          const plan = plans[i] as Plan;
          if (hit === undefined) return;
          const own = lifetimeFor(plan.policy, plan.def, now, hit.loadMs, hit.rows.length === 0);
          const life = { ...own, softExpiresAt: Math.min(own.softExpiresAt, hit.softExpiresAt) };
          entries.push({
            kind: 'action',
            pk: pks[i] as string,
            lease: leases[i] as string,
            rows: hit.rows,
            maxCount: plan.def.maxCount,
            life,
          });
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

  #maybeRefresh(kind: 'static' | 'action', pk: string, plan: Plan, hit: EntryFreshness, now: number): void {
    if (!shouldRefreshEarly(now, hit.softExpiresAt, hit.loadMs, this.#beta)) return;
    const flight = kind === 'static' ? this.#staticFlight : this.#rangeFlight;
    if (flight.has(pk)) return;
    this.metrics.refresh(now >= hit.softExpiresAt ? 'soft-expired' : 'xfetch');
    this.#background(kind === 'static' ? this.#loadStatics([pk], [plan]) : this.#loadRanges([pk], [plan]));
  }

  #loadStatics(pks: string[], plans: Plan[]): Promise<(StaticValue | undefined)[]> {
    const planOf = new Map(pks.map((pk, i) => [pk, plans[i] as Plan]));
    return this.#staticFlight.load(pks, async (keys) => {
      const keyPlans = keys.map((k) => planOf.get(k) as Plan);
      const leases = await this.#takeLeases(keys, keyPlans);
      const started = performance.now();
      const values = await this.#store.getStatic(keys);
      const loadMs = Math.max(1, Math.round(performance.now() - started));
      this.metrics.lookups('store', keys.length, 0);
      const now = this.#now();
      this.#fillLevels(keys, keyPlans, leases, (pk, plan, lease, i) => {
        const value = values[i];
        if (value === undefined && plan.policy.negativeTtlMs === 0) return undefined;
        const life = lifetimeFor(plan.policy, plan.def, now, loadMs, value === undefined, value);
        return life.expiresAt > now ? { kind: 'static', pk, lease, value, life } : undefined;
      });
      return values;
    });
  }

  #loadRanges(pks: string[], plans: Plan[]): Promise<ActionRow[][]> {
    const planOf = new Map(pks.map((pk, i) => [pk, plans[i] as Plan]));
    return this.#rangeFlight.load(pks, async (keys) => {
      const keyPlans = keys.map((k) => planOf.get(k) as Plan);
      const leases = await this.#takeLeases(keys, keyPlans);
      const started = performance.now();
      // The complete list (all the store keeps, at most maxCount), so any later count/lastNSec
      // can be answered from the cache exactly as the store would.
      const lists = await this.#store.getRanges(
        keys.map((pk, i) => ({ pk, count: (keyPlans[i] as Plan).def.maxCount, lastNSec: undefined })),
      );
      const loadMs = Math.max(1, Math.round(performance.now() - started));
      this.metrics.lookups('store', keys.length, 0);
      const now = this.#now();
      this.#fillLevels(keys, keyPlans, leases, (pk, plan, lease, i) => {
        const rows = lists[i] ?? [];
        if (rows.length === 0 && plan.policy.negativeTtlMs === 0) return undefined;
        const life = lifetimeFor(plan.policy, plan.def, now, loadMs, rows.length === 0);
        return { kind: 'action', pk, lease, rows, maxCount: plan.def.maxCount, life };
      });
      return lists;
    });
  }

  /** Leases in every level a key is cached in, taken before the store read they guard. */
  async #takeLeases(keys: string[], plans: Plan[]): Promise<Map<CacheLevelName, (string | undefined)[]>> {
    const leases = new Map<CacheLevelName, (string | undefined)[]>();
    if (this.#local !== undefined) {
      const local = this.#local;
      leases.set(
        'local',
        keys.map((pk, i) => ((plans[i] as Plan).local ? local.leaseNow([pk])[0] : undefined)),
      );
    }
    const redisKeys = keys.filter((_, i) => (plans[i] as Plan).redis);
    if (this.#redis !== undefined && redisKeys.length > 0) {
      const got = await this.#redis.lease(redisKeys);
      const byPk = new Map(redisKeys.map((pk, n) => [pk, got[n]]));
      leases.set(
        'redis',
        keys.map((pk) => byPk.get(pk)),
      );
    }
    return leases;
  }

  #fillLevels(
    keys: string[],
    plans: Plan[],
    leases: Map<CacheLevelName, (string | undefined)[]>,
    entryOf: (pk: string, plan: Plan, lease: string, i: number) => FillEntry | undefined,
  ): void {
    for (const [level, list] of leases) {
      const entries: FillEntry[] = [];
      keys.forEach((pk, i) => {
        const lease = list[i];
        if (lease === undefined) return;
        const entry = entryOf(pk, plans[i] as Plan, lease, i);
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

function lookupOf(q: RangeQuery, def: FeatureDef, now: number): RangeLookup {
  return {
    pk: q.pk,
    count: q.count,
    minTs: q.lastNSec === undefined ? -Infinity : now - q.lastNSec * 1000,
    expiredAtOrBefore: def.ttlMs === undefined ? -Infinity : now - def.ttlMs,
  };
}
