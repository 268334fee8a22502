/**
 * Per-group cache policy: which feature group a partition key belongs to, how long an entry lives
 * (hard and soft TTL with jitter, negative TTL), and XFetch's early-refresh decision.
 *
 * Defaults come from the spec (`src/registry/compile-cache.ts`): a group without `cache:` is not
 * cached; `cache: {}` means levels [local], ttl 10m, softTtl ttl/2, jitter 0.1, negativeTtl 30s,
 * write-through.
 */
import { groupOfKey } from '../keys/keys.ts';
import type { CachePolicy, FeatureDef, Registry } from '../registry/types.ts';
import type { StaticValue } from '../store/online-store.ts';
import type { EntryLifetime } from './cache-level.ts';

interface Candidate {
  readonly prefix: string;
  readonly def: FeatureDef;
}

const indexes = new WeakMap<Registry, Map<string, Candidate[]>>();

function indexOf(registry: Registry): Map<string, Candidate[]> {
  let index = indexes.get(registry);
  if (index !== undefined) return index;
  index = new Map();
  for (const def of registry.features) {
    const entity = registry.entities.get(def.entity);
    if (entity === undefined) continue;
    const list = index.get(def.name) ?? [];
    list.push({ prefix: entity.prefix, def });
    // Longest prefix first, so `c:flea` wins over `c:` for `c:flea123#title`.
    list.sort((a, b) => b.prefix.length - a.prefix.length);
    index.set(def.name, list);
  }
  indexes.set(registry, index);
  return index;
}

/**
 * The feature group of a partition key (`<prefix><id>#<group>`, see `keys/keys.ts`), or undefined
 * when the registry has no such group (the key is then read straight from the store).
 */
export function groupOf(registry: Registry, pk: string): FeatureDef | undefined {
  const group = groupOfKey(pk);
  if (group === undefined) return undefined;
  const candidates = indexOf(registry).get(group);
  if (candidates === undefined) return undefined;
  for (const c of candidates) if (pk.startsWith(c.prefix)) return c.def;
  return undefined;
}

/** `ms` shortened by up to `jitter` of itself, so entries filled together do not expire together. */
export function jittered(ms: number, jitter: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(ms * (1 - jitter * random())));
}

/**
 * Lifetime of an entry filled (or refreshed) now. A static value with a TTL in the store is never
 * kept past `ts + ttlMs`: the store expires it `ttlMs` after its write, which comes no earlier
 * than its event time, so this errs on the side of dropping it early.
 */
export function lifetimeFor(
  policy: CachePolicy,
  def: FeatureDef,
  now: number,
  loadMs: number,
  negative: boolean,
  value?: StaticValue,
): EntryLifetime {
  const hardMs = negative ? policy.negativeTtlMs : jittered(policy.ttlMs, policy.jitter);
  let expiresAt = now + hardMs;
  if (value !== undefined && def.ttlMs !== undefined) expiresAt = Math.min(expiresAt, value.ts + def.ttlMs);
  const softMs = negative ? hardMs : Math.min(hardMs, jittered(policy.softTtlMs, policy.jitter));
  return { expiresAt, softExpiresAt: Math.min(expiresAt, now + softMs), loadMs };
}

/**
 * XFetch (Vattani, Chierichetti, Lowenstein, "Optimal Probabilistic Cache Stampede Prevention",
 * VLDB 2015): refresh early with a probability that rises as the soft expiry nears, scaled by how
 * long a load takes. With many readers, one of them refreshes shortly before expiry instead of all
 * of them at once after it. `beta` > 1 favours earlier refreshes.
 */
export function shouldRefreshEarly(
  now: number,
  softExpiresAt: number,
  loadMs: number,
  beta = 1,
  random: () => number = Math.random,
): boolean {
  if (now >= softExpiresAt) return true;
  // -ln(u) for u in (0, 1] is >= 0: the gap by which this reader pretends the clock is ahead.
  return now - Math.max(loadMs, 1) * beta * Math.log(1 - random()) >= softExpiresAt;
}
