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

/** Parses `int`, `list<int>`, ...; undefined when the text is not a field type. */
export function parseFieldType(text: string): FieldType | undefined {
  const trimmed = text.trim();
  const list = LIST.exec(trimmed);
  const scalar = list === null ? trimmed : list[1];
  if (!SCALAR_TYPES.includes(scalar as ScalarType)) return undefined;
  return { scalar: scalar as ScalarType, list: list !== null };
}

/** The spelling a registry would use: `int`, `list<int>`. */
export function formatFieldType(type: FieldType): string {
  return type.list ? `list<${type.scalar}>` : type.scalar;
}

export function sameFieldType(a: FieldType, b: FieldType): boolean {
  return a.scalar === b.scalar && a.list === b.list;
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
  const suggestion = suggestFieldType(text);
  reader.issues.add(
    'LARDER_ERR_SPEC_FIELD_TYPE',
    `${what} "${text}" is not a field type: use int, float, string, bool, json or list<T>`,
    node.pos,
    suggestion === undefined ? undefined : `Write "${suggestion}".`,
  );
  return undefined;
}
