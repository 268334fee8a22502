import { addExtension } from 'msgpackr';

/**
 * The in-memory form of a `vector(N)` value: float32 numbers, 4 bytes each, from ingest through
 * the stores and cache levels to the serving path.
 *
 * `toJSON` makes it a plain array of numbers wherever a value becomes JSON (REST, dead letters,
 * the console): the numbers are the float32 values exactly, so `0.1` reads back as
 * `0.10000000149011612`.
 */
export class FloatVector extends Float32Array {
  toJSON(): number[] {
    return Array.from(this);
  }
}

/**
 * The msgpack extension type of a vector: its payload is the float32 values, little-endian, 4
 * bytes each, with no header (the length is the payload size / 4). Every msgpack encoder of
 * stored values (LMDB through lmdb-js, DynamoDB, the Redis cache level, set member keys) writes
 * vectors this way once this module is loaded; the modules that encode import it for that reason.
 */
export const VECTOR_EXT_TYPE = 0x56; // 'V'

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The payload bytes of a vector (any Float32Array: a plain one may come from a structured clone). */
export function vectorBytes(vector: Float32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
  const out = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) out.writeFloatLE(vector[i]!, i * 4);
  return out;
}

/** The vector of a payload; copies, so the vector never aliases (or pins) a read buffer. */
export function vectorFromBytes(bytes: Uint8Array): FloatVector {
  const n = bytes.byteLength >>> 2;
  const out = new FloatVector(n);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, n * 4));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

// Registered on Float32Array, which covers FloatVector: no float32 value is ever written as a
// bare byte string that would decode as a Buffer.
addExtension({
  Class: Float32Array,
  type: VECTOR_EXT_TYPE,
  pack: (vector: Float32Array) => vectorBytes(vector),
  unpack: (bytes: Uint8Array) => vectorFromBytes(bytes),
});

/** Whether a value is a vector as held in memory. */
export function isFloatVector(value: unknown): value is Float32Array {
  return value instanceof Float32Array;
}
