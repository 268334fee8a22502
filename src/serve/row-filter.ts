import { LarderError } from '../errors.ts';
import type { FeatureDef, FieldType } from '../registry/types.ts';
import type { ActionRow } from '../store/online-store.ts';

/**
 * `ActionFeatureInput.filter`: a list of conditions on row fields, all of which a row must meet.
 * Each is `{field, eq: value}` or `{field, in: [values]}`. Filters apply BEFORE `count`: the read
 * takes up to maxCount rows, filters them, then keeps the newest `count`.
 */
export interface RowFilterInput {
  readonly field?: unknown;
  readonly eq?: unknown;
  readonly in?: readonly unknown[] | null;
}

export type RowPredicate = (row: ActionRow) => boolean;

/** Compiles the filter list of one request against the feature's row fields; throws BAD_ARGUMENT. */
export function compileRowFilter(
  feature: FeatureDef,
  filters: readonly RowFilterInput[],
): RowPredicate | undefined {
  if (filters.length === 0) return undefined;
  const checks: RowPredicate[] = filters.map((filter, i) => {
    const name = filter.field;
    const field = feature.fields.find((f) => f.name === name);
    if (typeof name !== 'string' || field === undefined) {
      throw new LarderError(
        'LARDER_ERR_BAD_ARGUMENT',
        `filter[${i}].field "${String(name)}" is not a row field of ${feature.entity}.${feature.name}; use one of ${feature.fields.map((f) => f.name).join(', ')}`,
        { details: { argument: `filter[${i}].field` } },
      );
    }
    const hasEq = filter.eq !== undefined;
    const hasIn = filter.in !== undefined && filter.in !== null;
    if (hasEq === hasIn) {
      throw new LarderError('LARDER_ERR_BAD_ARGUMENT', `filter[${i}] needs exactly one of eq or in`, {
        details: { argument: `filter[${i}]` },
      });
    }
    const values = (hasIn ? (filter.in as readonly unknown[]) : [filter.eq]).map((v) =>
      coerce(field.type, v),
    );
    if (values.length === 1) {
      const only = values[0];
      return (row) => same(row.values[name], only);
    }
    const set = new Set(values.map(key));
    return (row) => set.has(key(row.values[name]));
  });
  if (checks.length === 1) return checks[0];
  return (row) => checks.every((check) => check(row));
}

/** The newest `count` rows of `rows` (already newest first) that pass `predicate`. */
export function applyRowFilter(
  rows: readonly ActionRow[],
  predicate: RowPredicate,
  count: number,
): ActionRow[] {
  const out: ActionRow[] = [];
  for (const row of rows) {
    if (predicate(row)) {
      out.push(row);
      if (out.length >= count) break;
    }
  }
  return out;
}

/** Filter values arrive as JSON; bring them to the field's type so `"7"` matches an int 7. */
function coerce(type: FieldType, value: unknown): unknown {
  if (type.list || value === null) return value;
  switch (type.scalar) {
    case 'int':
    case 'float':
      return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
        ? Number(value)
        : value;
    case 'string':
      return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
    case 'bool':
      return value === 'true' ? true : value === 'false' ? false : value;
    default:
      return value;
  }
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
    return (a ?? null) === (b ?? null);
  return JSON.stringify(a) === JSON.stringify(b);
}

function key(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? `json:${JSON.stringify(value)}` : (value ?? null);
}
