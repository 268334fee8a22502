import type { GraphQLOutputType, SelectionSetNode } from 'graphql';
import { GraphQLFloat, isLeafType, isListType, isNonNullType, isObjectType } from '../graphql-runtime.ts';
import { plainSelection } from './plain-selection.ts';
import { floatVectorJson } from './vector-json.ts';

/**
 * JSON text of plain values completed as GraphQL would complete them: the same scalar
 * `serialize`, null for absent values, lists, and value objects through their selection.
 *
 * Where GraphQL would report a field error (a null in a non-null position, a value its scalar
 * refuses, a list that is not an array), a `ValueJson` throws `FastPathMiss`: the request then
 * goes to the full executor, which reports the error with its path. The answers of the two paths
 * are identical otherwise (test/serve/fast-path.test.ts compares them).
 */
export type ValueJson = (value: unknown) => string;

/** The fast path cannot answer this request the way GraphQL would: use the full executor. */
export class FastPathMiss extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'FastPathMiss';
  }
}

/**
 * The writer of values of `type` (with `selection` when it is an object type), or undefined when
 * the type is not one the fast path handles.
 */
export function valueJson(
  type: GraphQLOutputType,
  selection: SelectionSetNode | undefined,
): ValueJson | undefined {
  if (isNonNullType(type)) {
    const inner = valueJson(type.ofType, selection);
    if (inner === undefined) return undefined;
    return (value) => {
      if (value === null || value === undefined) throw new FastPathMiss('null in a non-null field');
      return inner(value);
    };
  }
  if (isListType(type)) {
    const item = valueJson(type.ofType, selection);
    if (item === undefined) return undefined;
    const floats = isNonNullType(type.ofType) && type.ofType.ofType === GraphQLFloat;
    return (value) => {
      if (value === null || value === undefined) return 'null';
      // A vector(N) value is a Float32Array (keys/float-vector.ts), which GraphQL iterates too.
      if (floats && value instanceof Float32Array) {
        const text = floatVectorJson(value);
        if (text === undefined) throw new FastPathMiss('a vector holds a number Float refuses');
        return text;
      }
      if (!Array.isArray(value) && !(value instanceof Float32Array)) {
        throw new FastPathMiss('a list value that is not an array');
      }
      const items = value as ArrayLike<unknown>;
      let out = '[';
      for (let i = 0; i < items.length; i++) out += (i === 0 ? '' : ',') + item(items[i]);
      return `${out}]`;
    };
  }
  if (isLeafType(type)) {
    if (selection !== undefined || !('serialize' in type) || 'getValues' in type) return undefined; // enums: none generated
    const serialize = type.serialize.bind(type);
    return (value) => {
      if (value === null || value === undefined) return 'null';
      let out: unknown;
      try {
        out = serialize(value);
      } catch {
        throw new FastPathMiss(`${type.name} refuses the value`);
      }
      if (out === null || out === undefined) throw new FastPathMiss(`${type.name} serialised to nothing`);
      return JSON.stringify(out);
    };
  }
  if (isObjectType(type) && selection !== undefined) {
    const fields = plainSelection(type, selection);
    if (fields === undefined) return undefined;
    const writers: {
      readonly prefix: string;
      readonly name: string;
      readonly write: ValueJson | undefined;
      readonly text: string;
    }[] = [];
    for (const [i, f] of fields.entries()) {
      const prefix = `${i === 0 ? '{' : ','}${JSON.stringify(f.key)}:`;
      if (f.name === '__typename') {
        writers.push({ prefix, name: f.name, write: undefined, text: JSON.stringify(type.name) });
        continue;
      }
      const field = type.getFields()[f.name];
      if (field === undefined || field.resolve !== undefined) return undefined;
      const write = valueJson(field.type, f.node.selectionSet);
      if (write === undefined) return undefined;
      writers.push({ prefix, name: f.name, write, text: '' });
    }
    return (value) => {
      if (value === null || value === undefined) return 'null';
      const object = value as Record<string, unknown>;
      let out = '';
      for (const w of writers) out += w.prefix + (w.write === undefined ? w.text : w.write(object[w.name]));
      return `${out}}`;
    };
  }
  return undefined;
}
