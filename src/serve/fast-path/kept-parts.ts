/**
 * Parts of answers kept on the objects they were written from: a row's text on the row (rows
 * never change in place; the cache levels keep the objects), a hot entity's text on the entity
 * object (the hot cache shares it until it expires). Kept in a non-enumerable symbol property,
 * so GraphQL, JSON.stringify and object spreads never see or copy it, keyed by the plan that
 * wrote it (a few plans per object at most).
 *
 * Not a WeakMap: hot entity objects are replaced every TTL, and a WeakMap holding hundreds of
 * thousands of dead keys until the next full GC grows, rehashes and slows ephemeron marking
 * (100–300 ms event-loop stalls under load, measured).
 */
const SLOT = Symbol('larder.keptParts');
const MAX_PLANS_PER_OBJECT = 4;

interface Slot {
  readonly plans: object[];
  readonly parts: unknown[];
}

type Owner = { [SLOT]?: Slot };

/** The part `plan` kept on `owner`, if any. */
export function keptPart<T>(owner: object, plan: object): T | undefined {
  const slot = (owner as Owner)[SLOT];
  if (slot === undefined) return undefined;
  const plans = slot.plans;
  for (let i = 0; i < plans.length; i++) if (plans[i] === plan) return slot.parts[i] as T;
  return undefined;
}

/** Makes `owner` able to keep parts (the hot cache marks the objects it shares). */
export function allowKeptParts(owner: object): void {
  if ((owner as Owner)[SLOT] !== undefined || !Object.isExtensible(owner)) return;
  Object.defineProperty(owner, SLOT, { value: { plans: [], parts: [] } satisfies Slot, enumerable: false });
}

/**
 * Keeps `part` for `plan` on `owner`, replacing what `plan` kept there before. With
 * `onlyIfAllowed`, only on objects marked by `allowKeptParts` (entity objects of one request are
 * not worth it). Frozen objects keep nothing.
 */
export function keepPart(owner: object, plan: object, part: unknown, onlyIfAllowed = false): void {
  let slot = (owner as Owner)[SLOT];
  if (slot === undefined) {
    if (onlyIfAllowed || !Object.isExtensible(owner)) return;
    slot = { plans: [], parts: [] };
    Object.defineProperty(owner, SLOT, { value: slot, enumerable: false });
  }
  const existing = slot.plans.indexOf(plan);
  if (existing >= 0) {
    slot.parts[existing] = part;
    return;
  }
  if (slot.plans.length >= MAX_PLANS_PER_OBJECT) {
    slot.plans.shift();
    slot.parts.shift();
  }
  slot.plans.push(plan);
  slot.parts.push(part);
}
