import { Kind } from './graphql-runtime.ts';
import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import type { EntityDef, FeatureDef, JoinDef } from '../spec/types.ts';
import type { ActionRow } from '../store/online-store.ts';
import { canonicalEntityId } from './feature-resolvers.ts';
import type { GraphQLRequestContext } from './feature-resolvers.ts';
import type { RequestLoader } from './request-loader.ts';

/**
 * Joins: a row field holding another entity's id (`join: {field: article_id, entity:
 * flea_article, as: article}`) resolves to that entity on the row.
 *
 * The action feature's resolver, once its rows are read, prefetches the joined entities of ALL
 * its rows in one call to the loader, which batches every prefetch of the request into one store
 * call per joined entity type. The join field's resolver then answers synchronously: the id when
 * the entity exists (has any of the features read), else null.
 */
export interface JoinPlan {
  readonly join: JoinDef;
  readonly target: EntityDef;
  /** The target entity's static features (what a join can read and check existence on). */
  readonly statics: ReadonlySet<string>;
}

export function joinPlan(join: JoinDef, target: EntityDef, targetFeatures: readonly FeatureDef[]): JoinPlan {
  return {
    join,
    target,
    statics: new Set(targetFeatures.filter((f) => f.featureType === 'static').map((f) => f.name)),
  };
}

/** A join the query selects on a row type, with the static features it reads. */
interface SelectedJoin {
  readonly plan: JoinPlan;
  readonly features: readonly string[];
}

const selections = new WeakMap<FieldNode, readonly SelectedJoin[]>();

/** Which joins the query selects under an action field, and which static features of each. */
export function selectedJoins(plans: readonly JoinPlan[], info: GraphQLResolveInfo): readonly SelectedJoin[] {
  const first = info.fieldNodes[0];
  const cached = first === undefined ? undefined : selections.get(first);
  if (cached !== undefined) return cached;
  const byAs = new Map<string, Set<string>>();
  for (const node of info.fieldNodes) {
    if (node.selectionSet === undefined) continue;
    for (const joinNode of fieldsNamed(
      node.selectionSet,
      info.fragments,
      new Set(plans.map((p) => p.join.as)),
    )) {
      const names = byAs.get(joinNode.name.value) ?? new Set<string>();
      if (joinNode.selectionSet !== undefined)
        collectNames(joinNode.selectionSet, info.fragments, names, new Set());
      byAs.set(joinNode.name.value, names);
    }
  }
  const out: SelectedJoin[] = [];
  for (const plan of plans) {
    const names = byAs.get(plan.join.as);
    if (names === undefined) continue;
    const wanted = [...names].filter((n) => plan.statics.has(n));
    // Only the id or action features selected: existence is checked on every static feature.
    out.push({ plan, features: wanted.length > 0 ? wanted : [...plan.statics] });
  }
  if (first !== undefined) selections.set(first, out);
  return out;
}

/** The canonical id a row holds for a join, or undefined when it holds none (or a malformed one). */
export function joinedIdOf(row: ActionRow, plan: JoinPlan): string | undefined {
  const raw = row.values[plan.join.field];
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return String(raw);
  try {
    return canonicalEntityId(plan.target, raw);
  } catch {
    return undefined; // a malformed reference is a missing entity, not a failed request
  }
}

/** Prefetches the joined entities of `rows` (one loader call per selected join). */
export function prefetchJoins(
  rows: readonly ActionRow[],
  selected: readonly SelectedJoin[],
  loader: RequestLoader,
): Promise<unknown> {
  const waits: Promise<void>[] = [];
  for (const { plan, features } of selected) {
    const ids: string[] = [];
    for (const row of rows) {
      const id = joinedIdOf(row, plan);
      if (id !== undefined) ids.push(id);
    }
    if (ids.length > 0) waits.push(loader.prefetchJoined(plan.target, ids, features));
  }
  return waits.length === 1 ? waits[0]! : Promise.all(waits);
}

/** The join field on a row type. Synchronous after the prefetch; reads the entity itself otherwise. */
export function joinResolver(
  plan: JoinPlan,
): (row: ActionRow, args: unknown, ctx: GraphQLRequestContext, info: GraphQLResolveInfo) => unknown {
  return (row, _args, ctx, info) => {
    const id = joinedIdOf(row, plan);
    if (id === undefined) return null;
    const exists = ctx.loader.joinedExists(plan.target, id);
    if (exists !== undefined) return exists ? id : null;
    const names = new Set<string>();
    for (const node of info.fieldNodes)
      if (node.selectionSet !== undefined) collectNames(node.selectionSet, info.fragments, names, new Set());
    const wanted = [...names].filter((n) => plan.statics.has(n));
    return ctx.loader
      .prefetchJoined(plan.target, [id], wanted.length > 0 ? wanted : [...plan.statics])
      .then(() => (ctx.loader.joinedExists(plan.target, id) === true ? id : null));
  };
}

/** Field nodes of a selection (through fragments) whose name is one of `names`. */
function fieldsNamed(
  set: SelectionSetNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  names: ReadonlySet<string>,
  out: FieldNode[] = [],
  visiting = new Set<string>(),
): FieldNode[] {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (names.has(selection.name.value)) out.push(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT)
      fieldsNamed(selection.selectionSet, fragments, names, out, visiting);
    else {
      const fragment = fragments[selection.name.value];
      if (fragment === undefined || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      fieldsNamed(fragment.selectionSet, fragments, names, out, visiting);
    }
  }
  return out;
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
