import { Packr } from 'msgpackr';
// Loaded for its msgpack extension: a vector member is keyed by its float32 bytes.
import './float-vector.ts';

/**
 * Canonical msgpack for comparing values by their bytes (set members). Records are off so that the
 * bytes depend on the value alone, never on which structures an encoder has seen before.
 */
const canonical = new Packr({ useRecords: false, moreTypes: false });

/** The msgpack bytes of a value, independent of encoder state. */
export function encodeCanonical(value: unknown): Buffer {
  return canonical.pack(value);
}

/**
 * A string that is equal for two values exactly when their msgpack encodings are equal (set members
 * are unique by encoded bytes). Primitives take a short path that avoids encoding; msgpack writes a
 * JS number by its value, so `1` and `1.0` are the same member, as they are the same JS value.
 */
export function memberKey(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `s${value}`;
    case 'number':
      // String(-0) is '0', and msgpackr writes -0 as the integer 0 too.
      return `n${value}`;
    case 'boolean':
      return value ? 't' : 'f';
    default:
      if (value === null) return 'z';
      return `b${encodeCanonical(value).toString('latin1')}`;
  }
}
