/**
 * JSON text of a vector (keys/float-vector.ts) served as `[Float!]`, exactly as GraphQL writes it:
 * `Float` serialises a finite number to itself, and JSON writes a finite number as `String` does
 * (`-0` as `0`). One loop instead of a scalar writer per element: a 384-dim vector is 384 of them.
 * Undefined when a value is not finite (GraphQL would answer a field error: the caller hands over).
 */
export function floatVectorJson(vector: Float32Array): string | undefined {
  let out = '[';
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i]!;
    if (!Number.isFinite(x)) return undefined;
    out += i === 0 ? `${x}` : `,${x}`;
  }
  return `${out}]`;
}
