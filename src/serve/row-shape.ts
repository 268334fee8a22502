import type { ActionRow } from '../store/online-store.ts';

/** A row as GraphQL sees it: its fields, `timestamp`, and its joined entities by `as`. */
export type ServedRow = Record<string, unknown>;

/** Turns a stored row into the object GraphQL reads. */
export type RowBuilder = (row: ActionRow) => ServedRow;

/**
 * A row builder for one action feature, generated once per schema: an object literal with the
 * feature's fields, `timestamp` and one slot per join, in a fixed order. Every row of the
 * feature then has the same hidden class, so building one is a few stores (an object spread
 * of the stored values was the most expensive step of serving a profile), and graphql-jit's
 * property reads on it stay monomorphic.
 *
 * Field and join names are registry names, checked against /^[A-Za-z_][A-Za-z0-9_]*$/ by the
 * registry loader; they are embedded as JSON string literals all the same.
 */
export function rowBuilder(fields: readonly string[], joins: readonly string[]): RowBuilder {
  const parts = [
    ...fields.map((name) => `${JSON.stringify(name)}: v[${JSON.stringify(name)}]`),
    'timestamp: r.ts',
    ...joins.map((name) => `${JSON.stringify(name)}: null`),
  ];
  return new Function('r', `const v = r.values; return { ${parts.join(', ')} };`) as RowBuilder;
}
