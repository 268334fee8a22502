import type { SpecReader } from './node-reader.ts';
import type { SpecNode } from './spec-node.ts';
import type { FieldType, ScalarType } from './types.ts';

export const SCALAR_TYPES: readonly ScalarType[] = ['int', 'float', 'string', 'bool', 'json'];

/** Common names from other systems, so an error can say what to write instead. */
const SYNONYMS: Readonly<Record<string, ScalarType>> = {
  integer: 'int',
  long: 'int',
  bigint: 'int',
  number: 'float',
  double: 'float',
  decimal: 'float',
  str: 'string',
  text: 'string',
  boolean: 'bool',
  object: 'json',
  map: 'json',
};

const LIST = /^list\s*<\s*([A-Za-z]+)\s*>$/;
/** `vector(...)`, whatever is inside, so a bad dimension gets its own message. */
const VECTOR = /^vector\s*(?:\(\s*(.*?)\s*\))?$/i;

/** The largest `vector(N)`: far above embedding models' sizes, small enough to bound a value. */
export const MAX_VECTOR_DIM = 4096;

/** Parses `int`, `list<int>`, `vector(384)`, ...; undefined when the text is not a field type. */
export function parseFieldType(text: string): FieldType | undefined {
  const trimmed = text.trim();
  const vector = VECTOR.exec(trimmed);
  if (vector !== null) {
    const dim = vectorDimension(vector[1]);
    return typeof dim === 'number' && trimmed.startsWith('vector') ? vectorType(dim) : undefined;
  }
  const list = LIST.exec(trimmed);
  const scalar = list === null ? trimmed : list[1];
  if (!SCALAR_TYPES.includes(scalar as ScalarType)) return undefined;
  return { scalar: scalar as ScalarType, list: list !== null };
}

/** The field type `vector(dim)`. */
export function vectorType(dim: number): FieldType {
  return { scalar: 'float', list: true, vector: dim };
}

/** The dimension in `vector(<text>)`, or why it is not one. */
function vectorDimension(text: string | undefined): number | string {
  if (text === undefined || text === '') return 'has no dimension';
  if (!/^\d+$/.test(text)) return `has dimension "${text}", which is not a whole number`;
  const dim = Number(text);
  if (dim < 1) return 'has dimension 0; a vector needs at least one';
  if (dim > MAX_VECTOR_DIM) return `has dimension ${text}, above the limit of ${MAX_VECTOR_DIM}`;
  return dim;
}

/** The spelling a registry would use: `int`, `list<int>`, `vector(384)`. */
export function formatFieldType(type: FieldType): string {
  if (type.vector !== undefined) return `vector(${type.vector})`;
  return type.list ? `list<${type.scalar}>` : type.scalar;
}

export function sameFieldType(a: FieldType, b: FieldType): boolean {
  return a.scalar === b.scalar && a.list === b.list && a.vector === b.vector;
}

/** A suggestion for a type that failed to parse, for the hint line. */
export function suggestFieldType(text: string): string | undefined {
  const trimmed = text.trim();
  const list = /^(?:list|array)\s*[<[(]\s*([A-Za-z]+)\s*[>\])]$/i.exec(trimmed);
  const inner = (list === null ? trimmed : (list[1] ?? '')).toLowerCase();
  const scalar = SCALAR_TYPES.includes(inner as ScalarType) ? (inner as ScalarType) : SYNONYMS[inner];
  if (scalar === undefined) return undefined;
  return list === null ? scalar : `list<${scalar}>`;
}

/** Reads a field type node, reporting FIELD_TYPE with a suggestion when it is not one. */
export function readFieldType(
  node: SpecNode | undefined,
  what: string,
  reader: SpecReader,
): FieldType | undefined {
  const text = reader.string(node, what);
  if (text === undefined || node === undefined) return undefined;
  const type = parseFieldType(text);
  if (type !== undefined) return type;
  const vector = VECTOR.exec(text.trim());
  if (vector !== null) {
    const problem = vectorDimension(vector[1]);
    reader.issues.add(
      'LARDER_ERR_SPEC_VECTOR',
      `${what} "${text}" ${typeof problem === 'string' ? problem : 'is not spelled vector(N)'}`,
      node.pos,
      `Write vector(N) with N a whole number from 1 to ${MAX_VECTOR_DIM}, the length of every value (384 for a 384-dimension embedding).`,
    );
    return undefined;
  }
  const suggestion = suggestFieldType(text);
  reader.issues.add(
    'LARDER_ERR_SPEC_FIELD_TYPE',
    `${what} "${text}" is not a field type: use int, float, string, bool, json, list<T> or vector(N)`,
    node.pos,
    suggestion === undefined ? undefined : `Write "${suggestion}".`,
  );
  return undefined;
}
