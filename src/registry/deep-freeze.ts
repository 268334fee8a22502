/**
 * Freezes plain objects and arrays, recursively. Maps are frozen as objects, which does not stop
 * `set()`; the registry types expose them as ReadonlyMap.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (value instanceof Map) {
    for (const item of value.values()) deepFreeze(item);
  } else {
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
