import type { GraphQLResolveInfo } from 'graphql';
import { entityIdKey } from '../keys/keys.ts';
import type { EntityDef, FeatureDef, JoinDef } from '../registry/types.ts';
import type { ActionRow } from '../store/online-store.ts';
import type { RequestLoader } from './request-loader.ts';
import type { RowBuilder, ServedRow } from './row-shape.ts';
import { perFieldNode, selectedFields, selectedNames } from './selection.ts';

/**
 * Joins: a row field holding another entity's id (`join: {field: article_id, entity:
 * flea_article, as: article}`) resolves to that entity on the row.
 *
 * The action feature's resolver, once its rows are read, loads the joined entities of ALL its
 * rows in one call to the loader, which batches every load of the request into one store call
 * per joined entity type. Each row then goes to GraphQL as a plain object carrying its fields,
 * `timestamp` and the joined entity (or null when the entity has none of the features read), so
 * no field below the action feature needs a resolver.
 */
export interface ServedJoin {
  readonly def: JoinDef;
  readonly target: EntityDef;
  /** The target entity's static features (what a join can read and check existence on). */
  readonly statics: ReadonlySet<string>;
}

/** A join of the serving schema: its definition, the entity it points at and that entity's statics. */
export function servedJoin(
  def: JoinDef,
  target: EntityDef,
  targetFeatures: readonly FeatureDef[],
): ServedJoin {
  return {
    def,
    target,
    statics: new Set(targetFeatures.filter((f) => f.featureType === 'static').map((f) => f.name)),
  };
}

/** A join the query selects on a row type, with the static features it reads. */
export interface SelectedJoin {
  readonly join: ServedJoin;
  readonly features: readonly string[];
}

/**
 * Which joins the query selects under an action field, and which static features of each; memoised
 * per compiled query by the returned function.
 */
export function joinSelector(
  joins: readonly ServedJoin[],
): (info: GraphQLResolveInfo) => readonly SelectedJoin[] {
  const asNames = new Set(joins.map((j) => j.def.as));
  return perFieldNode((info) => {
    const byAs = new Map<string, Set<string>>();
    for (const node of selectedFields(info, asNames)) {
      const names = byAs.get(node.name.value) ?? new Set<string>();
      for (const name of selectedNames(info, [node])) names.add(name);
      byAs.set(node.name.value, names);
    }
    const out: SelectedJoin[] = [];
    for (const join of joins) {
      const names = byAs.get(join.def.as);
      if (names === undefined) continue;
      const wanted = [...names].filter((n) => join.statics.has(n));
      // Only the id or action features selected: existence is checked on every static feature.
      out.push({ join, features: wanted.length > 0 ? wanted : [...join.statics] });
    }
    return out;
  });
}

/** The key form of the id a row holds for a join, or undefined when it holds none (or a malformed one). */
export function joinedIdOf(row: ActionRow, join: ServedJoin): string | undefined {
  // A malformed reference is a missing entity, not a failed request.
  return entityIdKey(join.target.idType, row.values[join.def.field]);
}

/**
 * Loads the joined entities of `rows` (one loader call per selected join, batched per entity type
 * across the request), then returns the rows with their entities under each join's `as`.
 */
export async function serveJoinedRows(
  rows: readonly ActionRow[],
  selected: readonly SelectedJoin[],
  loader: RequestLoader,
  build: RowBuilder,
): Promise<ServedRow[]> {
  const ids: (string | undefined)[][] = [];
  const waits: Promise<void>[] = [];
  for (const { join, features } of selected) {
    const column = rows.map((row) => joinedIdOf(row, join));
    ids.push(column);
    const present = column.filter((id): id is string => id !== undefined);
    if (present.length > 0) waits.push(loader.loadEntities(join.target, present, features));
  }
  await (waits.length === 1 ? waits[0] : Promise.all(waits));
  const out = rows.map(build);
  for (let s = 0; s < selected.length; s++) {
    const { join } = selected[s]!;
    const column = ids[s]!;
    for (let r = 0; r < out.length; r++) {
      const id = column[r];
      out[r]![join.def.as] = id === undefined ? null : loader.joinedEntity(join.target, id);
    }
  }
  return out;
}
