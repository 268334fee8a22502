import { coerceScalar } from './coerce-value.ts';
import { didYouMean } from './did-you-mean.ts';
import { formatFieldType, readFieldType } from './field-type.ts';
import type { SpecReader } from './node-reader.ts';
import { entryOf, toPlainValue, type SpecNode } from './spec-node.ts';
import type { FieldType, FilterDef, Optype, SourcePos } from './types.ts';

export const FILTER_KEYS = ['name', 'type', 'condition'] as const;
export const CONDITION_KEYS = ['optype', 'values'] as const;

export const OPTYPES: readonly Optype[] = [
  'equal',
  'not_equal',
  'contain',
  'not_contain',
  'in',
  'not_in',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'not_exists',
];

/** How many values each optype takes. */
const ARITY: Readonly<Record<Optype, 'one' | 'some' | 'none'>> = {
  equal: 'one',
  not_equal: 'one',
  gt: 'one',
  gte: 'one',
  lt: 'one',
  lte: 'one',
  in: 'some',
  not_in: 'some',
  contain: 'some',
  not_contain: 'some',
  exists: 'none',
  not_exists: 'none',
};

export function compileFilter(node: SpecNode, what: string, reader: SpecReader): FilterDef | undefined {
  const map = reader.map(node, what);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, FILTER_KEYS, what);
  const name = reader.path(reader.required(keys.name, `${what}.name`, map.pos), `${what}.name`);
  const typeNode = keys.type?.value;
  const type =
    typeNode === undefined || (typeNode.kind === 'scalar' && typeNode.value === null)
      ? ({ scalar: 'string', list: false } as const)
      : readFieldType(typeNode, `${what}.type`, reader);
  const conditionNode = reader.required(keys.condition, `${what}.condition`, map.pos);
  const condition = conditionNode === undefined ? undefined : reader.map(conditionNode, `${what}.condition`);
  if (condition === undefined) return undefined;
  const conditionKeys = reader.keys(condition, CONDITION_KEYS, `${what}.condition`);

  const optypeNode = reader.required(conditionKeys.optype, `${what}.condition.optype`, condition.pos);
  const optypeText = reader.string(optypeNode, `${what}.condition.optype`);
  let optype: Optype | undefined;
  if (optypeText !== undefined && optypeNode !== undefined) {
    if ((OPTYPES as readonly string[]).includes(optypeText)) optype = optypeText as Optype;
    else {
      reader.issues.add(
        'LARDER_ERR_SPEC_OPTYPE',
        `${what}.condition.optype "${optypeText}" is not an optype: use one of ${OPTYPES.join(', ')}`,
        optypeNode.pos,
        `Use one of ${OPTYPES.join(', ')}.${didYouMean(optypeText, OPTYPES)}`,
      );
    }
  }
  if (optype === undefined || type === undefined || name === undefined || optypeNode === undefined)
    return undefined;
  if (!optypeFitsType(optype, type, `${what}.condition.optype`, optypeNode.pos, reader)) return undefined;

  // A single scalar reads as a one-value list: `values: kr` means `values: [kr]`.
  const valuesEntry = entryOf(condition, 'values');
  const valuesNode = valuesEntry?.value;
  const valueNodes: readonly SpecNode[] =
    valuesNode === undefined || (valuesNode.kind === 'scalar' && valuesNode.value === null)
      ? []
      : valuesNode.kind === 'seq'
        ? valuesNode.items
        : [valuesNode];
  const arity = ARITY[optype];
  const count = valueNodes.length;
  const arityOk = arity === 'one' ? count === 1 : arity === 'some' ? count >= 1 : count === 0;
  if (!arityOk) {
    const needs =
      arity === 'one' ? 'exactly one value' : arity === 'some' ? 'at least one value' : 'no values';
    reader.issues.add(
      'LARDER_ERR_SPEC_FILTER_VALUES',
      `${what}: optype ${optype} takes ${needs}, found ${count}`,
      valuesEntry?.value.pos ?? optypeNode.pos,
    );
    return undefined;
  }

  const values: unknown[] = [];
  let coercedAll = true;
  valueNodes.forEach((valueNode, i) => {
    const raw = valueNode.kind === 'scalar' ? valueNode.value : undefined;
    const coerced =
      valueNode.kind !== 'scalar' && type.scalar !== 'json'
        ? ({ ok: false, reason: 'a list or map is not a single value' } as const)
        : coerceScalar(valueNode.kind === 'scalar' ? raw : toPlainValue(valueNode), type.scalar);
    if (coerced.ok) values.push(coerced.value);
    else {
      coercedAll = false;
      reader.issues.add(
        'LARDER_ERR_SPEC_FILTER_VALUES',
        `${what}.condition.values[${i}] cannot be coerced to ${type.scalar}: ${coerced.reason}`,
        valueNode.pos,
        `Write a ${type.scalar} value, or change the filter's type.`,
      );
    }
  });
  if (!coercedAll) return undefined;
  return { name, type, optype, values };
}

/** Order comparisons need an ordered type; `contain` needs text or a list; lists only test membership. */
function optypeFitsType(
  optype: Optype,
  type: FieldType,
  what: string,
  at: SourcePos,
  reader: SpecReader,
): boolean {
  const typeText = formatFieldType(type);
  const fail = (needs: string): boolean => {
    reader.issues.add(
      'LARDER_ERR_SPEC_OPTYPE',
      `${what} ${optype} does not apply to type ${typeText}: it needs ${needs}`,
      at,
      "Change the optype or the filter's type.",
    );
    return false;
  };
  if (optype === 'exists' || optype === 'not_exists') return true;
  if (type.list) {
    return optype === 'contain' || optype === 'not_contain'
      ? true
      : fail('a scalar type (lists take contain, not_contain, exists, not_exists)');
  }
  if (
    (optype === 'gt' || optype === 'gte' || optype === 'lt' || optype === 'lte') &&
    !['int', 'float', 'string'].includes(type.scalar)
  ) {
    return fail('int, float or string');
  }
  if (
    (optype === 'contain' || optype === 'not_contain') &&
    type.scalar !== 'string' &&
    type.scalar !== 'json'
  ) {
    return fail('string, json or a list type');
  }
  return true;
}
