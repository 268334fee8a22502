import type { FieldNode, GraphQLObjectType, SelectionSetNode } from 'graphql';
import { Kind } from '../graphql-runtime.ts';

/** One selected field: its response key (alias or name), its name and its node. */
export interface PlainField {
  readonly key: string;
  readonly name: string;
  readonly node: FieldNode;
}

/**
 * The fields of a selection set, in order, when the set is "plain": fields only (no fragments,
 * no directives such as `@skip`), each response key once, every field known to `type` or
 * `__typename`. Anything else is undefined: GraphQL's field merging and directives are the full
 * executor's job.
 */
export function plainSelection(
  type: GraphQLObjectType,
  selection: SelectionSetNode,
): PlainField[] | undefined {
  const out: PlainField[] = [];
  const keys = new Set<string>();
  const known = type.getFields();
  for (const node of selection.selections) {
    if (node.kind !== Kind.FIELD) return undefined;
    if (node.directives !== undefined && node.directives.length > 0) return undefined;
    const name = node.name.value;
    const key = node.alias?.value ?? name;
    if (keys.has(key)) return undefined;
    keys.add(key);
    if (name !== '__typename' && known[name] === undefined) return undefined;
    out.push({ key, name, node });
  }
  return out;
}
