import { Kind } from './graphql-runtime.ts';
import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import type { EntityDef, FeatureDef, JoinDef } from '../spec/types.ts';
import type { ActionRow } from '../store/online-store.ts';
import { canonicalEntityId } from './feature-resolvers.ts';
import type { GraphQLRequestContext } from './feature-resolvers.ts';

/**
 * The resolver of a join field on an action row (`article` for `join: {field: article_id,
 * entity: flea_article, as: article}`): the referenced entity, or null when the row has no id or
 * the entity has none of the selected features. The read is batched by the request loader: one
 * store call per joined entity type for the whole request.
 */
export function joinResolver(
  join: JoinDef,
  target: EntityDef,
  targetFeatures: readonly FeatureDef[],
): (row: ActionRow, args: unknown, ctx: GraphQLRequestContext, info: GraphQLResolveInfo) => unknown {
  const statics = new Set(targetFeatures.filter((f) => f.featureType === 'static').map((f) => f.name));
  const allStatics = [...statics];
  // Which static features a query selects under this join: computed once per field node.
  const selected = new WeakMap<FieldNode, readonly string[]>();
  return (row, _args, ctx, info) => {
    const raw = row.values[join.field];
    if (raw === null || raw === undefined) return null;
    let id: string;
    try {
      id = canonicalEntityId(target, raw);
    } catch {
      return null; // a malformed reference is a missing entity, not a failed request
    }
    const node = info.fieldNodes[0];
    let features = node === undefined ? undefined : selected.get(node);
    if (features === undefined) {
      const names = new Set<string>();
      for (const fieldNode of info.fieldNodes) {
        if (fieldNode.selectionSet !== undefined)
          collect(fieldNode.selectionSet, info.fragments, names, new Set());
      }
      const wanted = [...names].filter((n) => statics.has(n));
      // Only the id or action features selected: check existence on every static feature.
      features = wanted.length > 0 ? wanted : allStatics;
      if (node !== undefined) selected.set(node, features);
    }
    return ctx.loader.joined(target, id, features);
  };
}

function collect(
  set: SelectionSetNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  names: Set<string>,
  visiting: Set<string>,
): void {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) names.add(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT)
      collect(selection.selectionSet, fragments, names, visiting);
    else {
      const fragment = fragments[selection.name.value];
      if (fragment === undefined || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      collect(fragment.selectionSet, fragments, names, visiting);
    }
  }
}
