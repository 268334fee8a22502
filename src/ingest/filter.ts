import type { FilterDef, Optype } from '../registry/types.ts';
import { canonicalJson } from './canonical-json.ts';
import { INVALID, tryCoerceScalar } from './coerce.ts';
import { compilePath } from './event-path.ts';

/**
 * Event filters. Each `filter[]` entry of a binding is compiled once into a predicate; an event
 * passes a binding when every predicate holds.
 *
 * The event's value is coerced to the filter's type before comparing (`"3"` equals an int filter
 * value 3); a value that cannot be coerced simply does not match. Semantics per optype:
 *
 * - `equal`: the value equals one of `values` (normally one). A list value equals when the whole
 *   list equals `values` element by element.
 * - `not_equal`: the negation of `equal`.
 * - `in` / `not_in`: the value is (is not) one of `values`; for a list value, any element counts.
 * - `contain`: a string value contains every value as a substring; a list value contains every
 *   value as an element. Several values: all must be contained.
 * - `not_contain`: none of the values is contained.
 * - `gt` / `gte` / `lt` / `lte`: compares with `values[0]`, numerically for int/float/bool, by code
 *   point for strings.
 * - `exists` / `not_exists`: the field is present and not null (absent or null).
 *
 * **A missing field** (absent or null) fails `equal`, `in`, `contain` and the comparisons, and
 * passes `not_equal`, `not_in` and `not_contain`: a negative condition means "anything but",
 * and a missing value is not the excluded one.
 */

export type EventPredicate = (event: unknown) => boolean;

/** Compiles all filters of a binding; an empty list passes every event. */
export function compileFilters(filters: readonly FilterDef[]): EventPredicate {
  if (filters.length === 0) return () => true;
  const predicates = filters.map(compileFilter);
  if (predicates.length === 1) return predicates[0] as EventPredicate;
  return (event) => {
    for (const predicate of predicates) if (!predicate(event)) return false;
    return true;
  };
}

/** Compiles one filter entry into a predicate over the whole event. */
export function compileFilter(filter: FilterDef): EventPredicate {
  const read = compilePath(filter.name);
  const test = compileCondition(filter);
  const missingPasses = MISSING_PASSES[filter.optype];
  return (event) => {
    const value = read(event);
    if (value === undefined || value === null) return missingPasses;
    return test(value);
  };
}

const MISSING_PASSES: Record<Optype, boolean> = {
  equal: false,
  not_equal: true,
  contain: false,
  not_contain: true,
  in: false,
  not_in: true,
  gt: false,
  gte: false,
  lt: false,
  lte: false,
  exists: false,
  not_exists: true,
};

type ValueTest = (value: unknown) => boolean;

function compileCondition(filter: FilterDef): ValueTest {
  const scalar = filter.type.scalar;
  const isJson = scalar === 'json';
  // A list-typed filter may carry its operand as one list value or as the list's elements.
  const operands: unknown[] = filter.values.flatMap((v) => (Array.isArray(v) && !isJson ? v : [v]));
  const operandKeys = new Set(operands.map(keyOf));
  const coerceOne = (v: unknown): unknown => tryCoerceScalar(v, scalar);
  const elementKeys = (list: readonly unknown[]): Set<unknown> => {
    const keys = new Set<unknown>();
    for (const element of list) {
      const c = coerceOne(element);
      if (c !== INVALID) keys.add(keyOf(c));
    }
    return keys;
  };

  const equal: ValueTest = (value) => {
    if (Array.isArray(value) && !isJson) {
      if (value.length !== operands.length) return false;
      return value.every((element, i) => {
        const c = coerceOne(element);
        return c !== INVALID && keyOf(c) === keyOf(operands[i]);
      });
    }
    const c = coerceOne(value);
    return c !== INVALID && operandKeys.has(keyOf(c));
  };
  const isIn: ValueTest = (value) => {
    if (Array.isArray(value) && !isJson) {
      for (const key of elementKeys(value)) if (operandKeys.has(key)) return true;
      return false;
    }
    const c = coerceOne(value);
    return c !== INVALID && operandKeys.has(keyOf(c));
  };
  /** How many operands the value contains, or -1 when the value cannot contain anything. */
  const containedCount = (value: unknown): number => {
    if (Array.isArray(value)) {
      const keys = elementKeys(value);
      return operands.filter((operand) => keys.has(keyOf(operand))).length;
    }
    const text = tryCoerceScalar(value, 'string');
    if (text === INVALID) return -1;
    return operands.filter((operand) => (text as string).includes(String(operand))).length;
  };

  switch (filter.optype) {
    case 'equal':
      return equal;
    case 'not_equal':
      return (value) => !equal(value);
    case 'in':
      return isIn;
    case 'not_in':
      return (value) => !isIn(value);
    case 'contain':
      return (value) => containedCount(value) === operands.length && operands.length > 0;
    case 'not_contain':
      return (value) => containedCount(value) <= 0;
    case 'exists':
      return () => true;
    case 'not_exists':
      return () => false;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return compileComparison(filter.optype, scalar, operands[0]);
  }
}

function compileComparison(
  optype: 'gt' | 'gte' | 'lt' | 'lte',
  scalar: FilterDef['type']['scalar'],
  bound: unknown,
): ValueTest {
  const holds = (order: number): boolean =>
    optype === 'gt' ? order > 0 : optype === 'gte' ? order >= 0 : optype === 'lt' ? order < 0 : order <= 0;
  if (scalar === 'string') {
    const limit = String(bound);
    return (value) => {
      const c = tryCoerceScalar(value, 'string');
      if (c === INVALID) return false;
      const text = c as string;
      return holds(text < limit ? -1 : text > limit ? 1 : 0);
    };
  }
  if (scalar === 'json') {
    return (value) => {
      if (typeof value === 'number' && typeof bound === 'number') return holds(value - bound);
      if (typeof value === 'string' && typeof bound === 'string') {
        return holds(value < bound ? -1 : value > bound ? 1 : 0);
      }
      return false;
    };
  }
  const limit = Number(bound);
  return (value) => {
    const c = tryCoerceScalar(value, scalar === 'bool' ? 'bool' : 'float');
    if (c === INVALID) return false;
    const n = Number(c);
    return holds(n < limit ? -1 : n > limit ? 1 : 0);
  };
}

/** A Set key: primitives as themselves, objects and arrays by canonical JSON. */
function keyOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? `\u0000json:${canonicalJson(value)}` : value;
}
