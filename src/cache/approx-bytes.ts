/**
 * A cheap estimate of the heap bytes a value holds, for sizing in-process cache entries. It walks
 * the value once with no encoding; it is an estimate (V8's real layout varies), good enough to
 * keep a byte budget honest across small and large values.
 */
export function approxBytes(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2;
    case 'number':
      return 8;
    case 'boolean':
      return 4;
    case 'bigint':
      return 16;
    case 'undefined':
      return 0;
    case 'object': {
      if (value === null) return 4;
      if (depth > 32) return 64;
      if (ArrayBuffer.isView(value)) return 64 + value.byteLength;
      if (Array.isArray(value)) {
        let total = 16 + value.length * 8;
        for (const item of value) total += approxBytes(item, depth + 1);
        return total;
      }
      let total = 32;
      for (const key in value) {
        total += 8 + key.length * 2 + approxBytes((value as Record<string, unknown>)[key], depth + 1);
      }
      return total;
    }
    default:
      return 8;
  }
}
