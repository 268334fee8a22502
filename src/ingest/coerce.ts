import { LarderError } from '../errors.ts';
import { isFloat32Number } from '../registry/check-value-type.ts';
import { formatFieldType as formatType } from '../registry/field-type.ts';
import type { FieldType, ScalarType } from '../registry/types.ts';
import { FloatVector } from '../keys/float-vector.ts';

/**
 * Type coercion of event values to the declared field types. Producers are sloppy in predictable
 * ways (ids as strings, flags as 0/1), so each type accepts the few spellings that mean the same
 * value and nothing else:
 *
 * | type   | accepts                                                        |
 * |--------|----------------------------------------------------------------|
 * | int    | integer numbers; strings of an integer (`"42"`, `"-7"`)        |
 * | float  | finite numbers; numeric strings (`"1.5"`, `"3e2"`)             |
 * | bool   | booleans; `"true"` / `"false"`; the numbers 0 and 1            |
 * | string | strings; numbers and booleans (converted with `String`)        |
 * | json   | anything                                                        |
 * | list<T>| arrays, each element coerced to T                               |
 * | vector(N) | arrays of exactly N numbers, each finite as a float32; stored as float32 |
 *
 * Integers must be safe (|n| < 2^53): a larger one would be silently rounded.
 */

/** Returned by `tryCoerce` when the value has no spelling in the type. */
export const INVALID: unique symbol = Symbol('invalid');

const INT_STRING = /^[+-]?\d+$/;
const NUMERIC_STRING = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Coerces one scalar; `INVALID` when it cannot. */
export function tryCoerceScalar(value: unknown, scalar: ScalarType): unknown {
  switch (scalar) {
    case 'int':
      if (typeof value === 'number') return Number.isSafeInteger(value) ? value : INVALID;
      if (typeof value === 'string') {
        const text = value.trim();
        if (!INT_STRING.test(text)) return INVALID;
        const n = Number(text);
        return Number.isSafeInteger(n) ? n : INVALID;
      }
      return INVALID;
    case 'float':
      if (typeof value === 'number') return Number.isFinite(value) ? value : INVALID;
      if (typeof value === 'string') {
        const text = value.trim();
        return NUMERIC_STRING.test(text) ? Number(text) : INVALID;
      }
      return INVALID;
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true') return true;
      if (value === 'false') return false;
      if (value === 1) return true;
      if (value === 0) return false;
      return INVALID;
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value === 'boolean') return String(value);
      return INVALID;
    case 'json':
      return value === undefined ? INVALID : value;
  }
}

/** Coerces a value to a field type; `INVALID` when it (or any list element) cannot be. */
export function tryCoerce(value: unknown, type: FieldType): unknown {
  if (!type.list) return tryCoerceScalar(value, type.scalar);
  if (type.vector !== undefined)
    return vectorProblem(value, type.vector) === undefined ? toVector(value) : INVALID;
  if (!Array.isArray(value)) return INVALID;
  const out = new Array<unknown>(value.length);
  for (let i = 0; i < value.length; i++) {
    const element = tryCoerceScalar(value[i], type.scalar);
    if (element === INVALID) return INVALID;
    out[i] = element;
  }
  return out;
}

/**
 * Coerces a value to a field type, or throws `LARDER_ERR_EVENT_TYPE` naming the field, the
 * expected type and the value (and the list index, for a bad element).
 */
export function coerce(value: unknown, type: FieldType, field: string): unknown {
  if (type.vector !== undefined) {
    const problem = vectorProblem(value, type.vector);
    if (problem === undefined) return toVector(value);
    throw new LarderError(
      'LARDER_ERR_EVENT_VECTOR',
      `field "${field}" expects vector(${type.vector}), got ${problem}`,
      { details: { field, expected: `vector(${type.vector})` } },
    );
  }
  const result = tryCoerce(value, type);
  if (result !== INVALID) return result;
  const expected = formatFieldType(type);
  let detail = describeValue(value);
  if (type.list && Array.isArray(value)) {
    const bad = value.findIndex((element) => tryCoerceScalar(element, type.scalar) === INVALID);
    detail = `element ${bad} is ${describeValue(value[bad])}`;
  }
  throw new LarderError('LARDER_ERR_EVENT_TYPE', `field "${field}" expects ${expected}, got ${detail}`, {
    details: { field, expected },
  });
}

/** `int`, `list<int>`, `vector(3)`: the spelling used in YAML. */
export function formatFieldType(type: FieldType): string {
  return formatType(type);
}

/**
 * Why a value is not a `vector(dim)` value, or undefined when it is: an array (or a float typed
 * array) of exactly `dim` numbers (strings are not taken: an embedding is never hand-typed), each
 * finite as a float32.
 */
function vectorProblem(value: unknown, dim: number): string | undefined {
  // A Float32Array/Float64Array: an event built in-process (a model's output), not parsed JSON.
  const items: ArrayLike<unknown> | undefined =
    Array.isArray(value) || value instanceof Float32Array || value instanceof Float64Array
      ? value
      : undefined;
  if (items === undefined) return describeValue(value);
  if (items.length !== dim) return `an array of ${items.length} element${items.length === 1 ? '' : 's'}`;
  for (let i = 0; i < dim; i++) {
    const item: unknown = items[i];
    if (!isFloat32Number(item)) {
      if (item === null) return `element ${i} null (not a number)`;
      // describeValue already says why a non-finite number is not one.
      if (typeof item === 'number' && !Number.isFinite(item)) return `element ${i} ${describeValue(item)}`;
      const why = typeof item === 'number' ? 'beyond the float32 range' : 'not a number';
      return `element ${i} ${describeValue(item)} (${why})`;
    }
  }
  return undefined;
}

function toVector(value: unknown): FloatVector {
  const numbers = value as ArrayLike<number>;
  const out = new FloatVector(numbers.length);
  for (let i = 0; i < numbers.length; i++) out[i] = numbers[i]!;
  return out;
}

/** A short, safe rendering of a value for error messages (never the whole event). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON writes them as null; `1e400` in an event parses as Infinity.
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'number NaN' : `number ${value} (beyond the range of a 64-bit float)`;
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `${kind} ${text}`;
}
