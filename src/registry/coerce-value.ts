import type { ScalarType } from './types.ts';

export type Coerced =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

const INTEGER_TEXT = /^[+-]?\d+$/;

/**
 * Converts a spec value to a scalar type, the way filter values are coerced at load:
 * - int: integers, or strings of digits, within the safe integer range;
 * - float: finite numbers, or strings that are a whole decimal number;
 * - string: strings, numbers and booleans (as their text);
 * - bool: booleans, or the strings "true" / "false" in any case;
 * - json: any value, unchanged.
 * `null` only fits json.
 */
export function coerceScalar(value: unknown, type: ScalarType): Coerced {
  const fail = (reason: string): Coerced => ({ ok: false, reason });
  if (type === 'json') return { ok: true, value };
  if (value === null || value === undefined) return fail(`null is not a ${type}`);
  switch (type) {
    case 'int': {
      const n = typeof value === 'string' && INTEGER_TEXT.test(value.trim()) ? Number(value) : value;
      if (typeof n === 'number' && Number.isSafeInteger(n)) return { ok: true, value: n };
      return fail(`${JSON.stringify(value)} is not an integer in the safe range`);
    }
    case 'float': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n === 'number' && Number.isFinite(n)) return { ok: true, value: n };
      return fail(`${JSON.stringify(value)} is not a finite number`);
    }
    case 'string':
      if (typeof value === 'string') return { ok: true, value };
      if (typeof value === 'number' || typeof value === 'boolean') return { ok: true, value: String(value) };
      return fail('a list or map is not a string');
    case 'bool': {
      if (typeof value === 'boolean') return { ok: true, value };
      const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
      if (text === 'true' || text === 'false') return { ok: true, value: text === 'true' };
      return fail(`${JSON.stringify(value)} is not true or false`);
    }
  }
}
