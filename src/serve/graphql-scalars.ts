import { GraphQLError, GraphQLScalarType, Kind } from './graphql-runtime.ts';
import type { ValueNode } from 'graphql';

/**
 * `Long`: a 64-bit-ish integer served as a JSON number. GraphQL's `Int` is 32-bit, and entity ids and
 * epoch milliseconds overflow it. Values beyond 2^53 lose precision in JavaScript either way; the
 * store hands them out as numbers (or bigints, which are converted).
 */
export const GraphQLLong = new GraphQLScalarType({
  name: 'Long',
  description: 'An integer that may exceed 32 bits (ids, epoch milliseconds), serialised as a JSON number.',
  serialize: serializeLong,
  parseValue: parseLongValue,
  parseLiteral(ast: ValueNode): number {
    if (ast.kind !== Kind.INT)
      throw new GraphQLError(`Long cannot represent a non-integer value`, { nodes: ast });
    return parseLongValue(Number(ast.value));
  },
});

function serializeLong(value: unknown): number {
  // The common case first: the stored value already is an integer number.
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw new GraphQLError(`Long cannot represent ${describe(value)}`);
}

function parseLongValue(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new GraphQLError(`Long must be a safe integer, got ${describe(value)}`);
}

/** `JSON`: any JSON value, passed through untouched (map features, `json` fields). */
export const GraphQLJSONValue = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value (objects for map features, free-form values for json fields).',
  serialize: (value: unknown) => value,
  parseValue: (value: unknown) => value,
  parseLiteral: parseJSONLiteral,
});

function parseJSONLiteral(ast: ValueNode, variables?: Readonly<Record<string, unknown>> | null): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
    case Kind.ENUM:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => parseJSONLiteral(v, variables));
    case Kind.OBJECT: {
      const out: Record<string, unknown> = {};
      for (const field of ast.fields) out[field.name.value] = parseJSONLiteral(field.value, variables);
      return out;
    }
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return typeof value === 'object' ? (value === null ? 'null' : 'an object') : String(value);
}
