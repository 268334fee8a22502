/**
 * A `module` handler's result with typed arrays (an embedding model's `Float32Array`, say) turned
 * into plain arrays of numbers, everywhere in it. Results travel as JSON (the thread's answer,
 * broker destinations, BullMQ, the invocation status route), where a typed array would become an
 * object of indexed keys; a `vector(N)` feature then stores the numbers as float32 again. Buffers
 * stay as they are.
 */
export function plainResult(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 64) return value;
  if (ArrayBuffer.isView(value)) {
    if (Buffer.isBuffer(value) || value instanceof DataView) return value;
    return Array.from(value as unknown as ArrayLike<number | bigint>, (x) =>
      typeof x === 'bigint' ? Number(x) : x,
    );
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const plain = plainResult(item, depth + 1);
      if (plain !== item) (out ??= [...value])[i] = plain;
    });
    return out ?? value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const plain = plainResult(item, depth + 1);
    if (plain !== item) (out ??= { ...(value as Record<string, unknown>) })[key] = plain;
  }
  return out ?? value;
}
