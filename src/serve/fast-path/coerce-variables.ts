import type { GraphQLSchema, TypeNode, VariableDefinitionNode } from 'graphql';
import { Kind, getVariableValues } from '../graphql-runtime.ts';

/** A request's variables coerced as GraphQL coerces them, or undefined when GraphQL would refuse them. */
export type CoerceVariables = (
  raw: Readonly<Record<string, unknown>>,
) => Readonly<Record<string, unknown>> | undefined;

/**
 * The variable coercion of one operation. Ids are what entity reads take: `ID`, `ID!` and
 * `[ID!]!` variables (without defaults) are coerced here, as GraphQL's `ID` coerces them (a
 * string, or an integer as its decimal string); anything else goes through graphql's own
 * `getVariableValues`, whose per-value type checks cost ~0.5 µs each (a 200-id list: ~100 µs
 * outside NODE_ENV=production).
 */
export function variableCoercion(
  schema: GraphQLSchema,
  definitions: readonly VariableDefinitionNode[],
): CoerceVariables {
  const shapes = definitions.map((d) => (d.defaultValue === undefined ? idShape(d.type) : undefined));
  const general: CoerceVariables = (raw) => {
    const result = getVariableValues(schema, definitions, raw);
    return result.errors === undefined ? result.coerced : undefined;
  };
  if (shapes.some((s) => s === undefined)) return general;
  const names = definitions.map((d) => d.variable.name.value);
  return (raw) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const shape = shapes[i]!;
      const value = raw[name];
      if (value === undefined) {
        if (shape.nonNull) return undefined;
        continue; // absent and nullable: GraphQL leaves it out too
      }
      if (value === null) {
        if (shape.nonNull) return undefined;
        out[name] = null;
        continue;
      }
      if (!shape.list) {
        const id = coerceId(value);
        if (id === undefined) return undefined;
        out[name] = id;
        continue;
      }
      // A single value where a list is expected is a list of one (GraphQL input coercion).
      const items = Array.isArray(value) ? value : [value];
      const ids: string[] = new Array<string>(items.length);
      for (let k = 0; k < items.length; k++) {
        const item: unknown = items[k];
        const id = item === null || item === undefined ? undefined : coerceId(item);
        if (id === undefined) {
          if (item === null && !shape.itemNonNull) return general(raw);
          return undefined;
        }
        ids[k] = id;
      }
      out[name] = ids;
    }
    return out;
  };
}

interface IdShape {
  readonly nonNull: boolean;
  readonly list: boolean;
  readonly itemNonNull: boolean;
}

/** `ID`, `ID!`, `[ID]`, `[ID!]`, `[ID]!`, `[ID!]!`; undefined for any other type. */
function idShape(type: TypeNode): IdShape | undefined {
  let node = type;
  const nonNull = node.kind === Kind.NON_NULL_TYPE;
  if (node.kind === Kind.NON_NULL_TYPE) node = node.type;
  if (node.kind === Kind.NAMED_TYPE)
    return node.name.value === 'ID' ? { nonNull, list: false, itemNonNull: false } : undefined;
  if (node.kind !== Kind.LIST_TYPE) return undefined;
  let item = node.type;
  const itemNonNull = item.kind === Kind.NON_NULL_TYPE;
  if (item.kind === Kind.NON_NULL_TYPE) item = item.type;
  return item.kind === Kind.NAMED_TYPE && item.name.value === 'ID'
    ? { nonNull, list: true, itemNonNull }
    : undefined;
}

/** GraphQL's `ID` input coercion: a string, or an integer (as its decimal string). */
function coerceId(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return undefined;
}
