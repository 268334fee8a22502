import type { GraphQLResolveInfo } from 'graphql';
import { defaultActionCount } from '../registry/action-defaults.ts';
import { partitionKey } from '../keys/keys.ts';
import type { EntityDef, FeatureDef, OnDemandDef } from '../registry/types.ts';
import type { ActionRow } from '../store/online-store.ts';
import { actionRead, type ActionFeatureArgs } from './action-read.ts';
import { joinSelector, serveJoinedRows, type ServedJoin } from './join-resolvers.ts';
import { rowBuilder, type ServedRow } from './row-shape.ts';
import type { OnDemandLoader } from './on-demand/on-demand-loader.ts';
import { canonicalEntityId } from './entity-id.ts';
import type { EntityObject } from './entity-object.ts';
import type { RequestLoader } from './request-loader.ts';
import { perFieldNode, selectedNames } from './selection.ts';

/**
 * Resolver factories for the generated schema. Each resolver closes over the FeatureDef/EntityDef of
 * the registry it was built from, never over the registry holder: a request that started on one
 * schema finishes on it even if a reload swaps the schema mid-flight.
 *
 * Only the root fields, action features and on-demand features have resolvers. Everything below
 * is plain data by the time GraphQL reaches it: an entity is an `EntityObject` (its id and the
 * static features the query selects, read in one batch), a row is an object of its fields plus
 * `timestamp` and its joined entities. graphql-jit compiles plain property reads for those
 * fields, instead of a resolver call per value.
 */

/** What the GraphQL context must carry (Mercurius adds `reply`, `app`, ... beside it). */
export interface GraphQLRequestContext {
  readonly loader: RequestLoader;
  /** Per-request batching of on-demand features; absent when the registry declares none. */
  readonly onDemand?: OnDemandLoader;
}

type Resolver = (
  parent: unknown,
  args: Record<string, unknown>,
  ctx: GraphQLRequestContext,
  info?: GraphQLResolveInfo,
) => unknown;

/** The static features of `entity` a query selects under a field, memoised per compiled query. */
function staticSelector(statics: ReadonlySet<string>): (info: GraphQLResolveInfo) => readonly string[] {
  return perFieldNode((info) => [...selectedNames(info)].filter((name) => statics.has(name)));
}

function staticNames(features: readonly FeatureDef[]): Set<string> {
  return new Set(features.filter((f) => f.featureType === 'static').map((f) => f.name));
}

/** `<entity>(id: ID!)`: the entity with the static features the query selects. */
export function singleEntityResolver(entity: EntityDef, features: readonly FeatureDef[]): Resolver {
  const selector = staticSelector(staticNames(features));
  return (_root, args, ctx, info) => {
    const id = canonicalEntityId(entity, args['id']);
    const selected = info === undefined ? [] : selector(info);
    if (selected.length === 0) return { id };
    const loader = ctx.loader;
    return loader.loadEntities(entity, [id], selected).then(() => loader.entityObject(entity, id));
  };
}

/** `<plural>(ids: [ID!]!)`: one entity per id, in the same order, duplicates included. */
export function batchEntityResolver(entity: EntityDef, features: readonly FeatureDef[]): Resolver {
  const selector = staticSelector(staticNames(features));
  return (_root, args, ctx, info) => {
    const ids = (args['ids'] as readonly unknown[]).map((id) => canonicalEntityId(entity, id));
    const selected = info === undefined ? [] : selector(info);
    if (selected.length === 0) return ids.map((id): EntityObject => ({ id }));
    const loader = ctx.loader;
    return loader
      .loadEntities(entity, ids, selected)
      .then(() => ids.map((id) => loader.entityObject(entity, id)));
  };
}

/**
 * An action feature: newest-first rows bounded by `input.count` and `input.lastNSec`. With
 * `input.filter`, up to maxCount rows are read, filtered, and the newest `count` kept. With joins
 * selected, the rows are handed out once their joined entities are read.
 */
export function actionFeatureResolver(
  entity: EntityDef,
  feature: FeatureDef,
  joins: readonly ServedJoin[] = [],
): Resolver {
  const group = feature.name;
  const defaultCount = defaultActionCount(feature);
  const selectJoins = joinSelector(joins);
  const build = rowBuilder(
    feature.fields.map((f) => f.name),
    joins.map((j) => j.def.as),
  );
  const served = (
    loader: RequestLoader,
    rows: ActionRow[],
    info: GraphQLResolveInfo | undefined,
  ): ServedRow[] | Promise<ServedRow[]> => {
    if (joins.length === 0 || rows.length === 0 || info === undefined) return rows.map(build);
    const selected = selectJoins(info);
    if (selected.length === 0) return rows.map(build);
    return serveJoinedRows(rows, selected, loader, build);
  };
  return (parent, args, ctx, info) => {
    const pk = partitionKey(entity, (parent as EntityObject).id, group);
    const read = actionRead(feature, defaultCount, args['input'] as ActionFeatureArgs | null | undefined);
    const loader = ctx.loader;
    return loader
      .actionRows(pk, read, feature.maxCount, feature.ttlMs)
      .then((rows) => served(loader, rows, info));
  };
}

/** An on-demand feature: fetched at request time, batched per feature, the fallback on failure. */
export function onDemandFeatureResolver(def: OnDemandDef): Resolver {
  return (parent, _args, ctx) => {
    if (ctx.onDemand === undefined) return def.fallback;
    ctx.loader.countOnDemandValue();
    return ctx.onDemand.load(def, (parent as EntityObject).id);
  };
}
