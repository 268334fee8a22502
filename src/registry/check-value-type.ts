import type { FieldType, ScalarType } from './types.ts';

/**
 * Whether a JSON value an upstream sent matches the declared type. An answer of the wrong type is
 * treated as a failure (the fallback is served), never passed on to GraphQL where it would turn
 * into a field error for the client.
 */
export function checkValueType(type: FieldType, value: unknown): boolean {
  if (value === null) return true;
  if (!type.list) return checkScalar(type.scalar, value);
  if (type.vector !== undefined) return isVectorValue(value, type.vector);
  if (!Array.isArray(value)) return false;
  for (const item of value) if (item !== null && !checkScalar(type.scalar, item)) return false;
  return true;
}

function checkScalar(scalar: ScalarType, value: unknown): boolean {
  switch (scalar) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'float':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'json':
      return true;
  }
}

/** An array of exactly `dim` finite numbers that float32 can hold (a `vector(dim)` value). */
export function isVectorValue(value: unknown, dim: number): boolean {
  if (!Array.isArray(value) || value.length !== dim) return false;
  for (const item of value) if (!isFloat32Number(item)) return false;
  return true;
}

/** A finite number that stays finite as a float32 (|x| up to about 3.4e38). */
export function isFloat32Number(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(Math.fround(value));
}
