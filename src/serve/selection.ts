import { Kind } from './graphql-runtime.ts';
import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';

/**
 * What a query selects under a field, read from the resolve info: field names through fragments
 * and inline fragments (directives are ignored: a `@skip`ped field is read anyway, never missed).
 * Results are cached per field node by the caller's `WeakMap`, so the walk happens once per
 * compiled query, not per request.
 */
export function selectedNames(
  info: GraphQLResolveInfo,
  nodes: readonly FieldNode[] = info.fieldNodes,
): Set<string> {
  const names = new Set<string>();
  for (const node of nodes) {
    if (node.selectionSet !== undefined) collectNames(node.selectionSet, info.fragments, names, new Set());
  }
  return names;
}

/** Field nodes of the selection under `nodes` whose name is one of `names` (through fragments). */
export function selectedFields(
  info: GraphQLResolveInfo,
  names: ReadonlySet<string>,
  nodes: readonly FieldNode[] = info.fieldNodes,
): FieldNode[] {
  const out: FieldNode[] = [];
  for (const node of nodes) {
    if (node.selectionSet !== undefined)
      fieldsNamed(node.selectionSet, info.fragments, names, out, new Set());
  }
  return out;
}

/**
 * A per-field-node memo: `compute` runs once per field node (that is, once per compiled query),
 * then every request of that query gets the cached answer.
 */
export function perFieldNode<T>(compute: (info: GraphQLResolveInfo) => T): (info: GraphQLResolveInfo) => T {
  const cache = new WeakMap<FieldNode, T>();
  return (info) => {
    const node = info.fieldNodes[0];
    if (node === undefined) return compute(info);
    let value = cache.get(node);
    if (value === undefined) {
      value = compute(info);
      cache.set(node, value);
    }
    return value;
  };
}

function fieldsNamed(
  set: SelectionSetNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  names: ReadonlySet<string>,
  out: FieldNode[],
  visiting: Set<string>,
): void {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (names.has(selection.name.value)) out.push(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      fieldsNamed(selection.selectionSet, fragments, names, out, visiting);
    } else {
      const fragment = fragments[selection.name.value];
      if (fragment === undefined || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      fieldsNamed(fragment.selectionSet, fragments, names, out, visiting);
    }
  }
}

function collectNames(
  set: SelectionSetNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  names: Set<string>,
  visiting: Set<string>,
): void {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) names.add(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT)
      collectNames(selection.selectionSet, fragments, names, visiting);
    else {
      const fragment = fragments[selection.name.value];
      if (fragment === undefined || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      collectNames(fragment.selectionSet, fragments, names, visiting);
    }
  }
}
