import type { GraphQLResolveInfo } from 'graphql';
import { LarderError } from '../errors.ts';
import { defaultActionCount } from '../registry/action-defaults.ts';
import { partitionKey } from '../keys/keys.ts';
import type { EntityDef, FeatureDef } from '../registry/types.ts';
import type { ActionRow } from '../store/online-store.ts';
import { joinSelector, serveJoinedRows } from './join-resolvers.ts';
import type { JoinPlan } from './join-resolvers.ts';
import { rowBuilder } from './row-shape.ts';
import type { ServedRow } from './row-shape.ts';
import type { OnDemandLoader } from './on-demand/on-demand-loader.ts';
import type { OnDemandDef } from '../registry/types.ts';
import { canonicalEntityId } from './entity-id.ts';
import type { EntityObject } from './entity-object.ts';
import type { RequestLoader } from './request-loader.ts';
import { applyRowFilter, compileRowFilter } from './row-filter.ts';
import type { RowFilterInput, RowPredicate } from './row-filter.ts';
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
  joins: readonly JoinPlan[] = [],
): Resolver {
  const group = feature.name;
  const defaultCount = defaultActionCount(feature);
  const selectJoins = joinSelector(joins);
  const build = rowBuilder(
    feature.fields.map((f) => f.name),
    joins.map((j) => j.join.as),
  );
  const served = (
    loader: RequestLoader,
    rows: ActionRow[],
    info: GraphQLResolveInfo | undefined,
  ): ServedRow[] | Promise<ServedRow[]> => {
    loader.rowsServed += rows.length;
    loader.featuresServed += rows.length;
    if (joins.length === 0 || rows.length === 0 || info === undefined) return rows.map(build);
    const selected = selectJoins(info);
    if (selected.length === 0) return rows.map(build);
    return serveJoinedRows(rows, selected, loader, build);
  };
  return (parent, args, ctx, info) => {
    const pk = partitionKey(entity, (parent as EntityObject).id, group);
    const read = actionRead(feature, defaultCount, args['input'] as ActionFeatureArgs | null | undefined);
    const loader = ctx.loader;
    const predicate = read.predicate;
    if (predicate !== undefined) {
      return loader
        .range(pk, feature.maxCount, read.lastNSec)
        .then((rows) => served(loader, applyRowFilter(rows, predicate, read.count), info));
    }
    return loader.range(pk, read.count, read.lastNSec).then((rows) => served(loader, rows, info));
  };
}

/** `ActionFeatureInput` as GraphQL hands it to a resolver. */
export interface ActionFeatureArgs {
  readonly count?: number | null;
  readonly lastNSec?: number | null;
  readonly filter?: readonly RowFilterInput[] | null;
}

/**
 * What one action feature read asks for: `count` newest rows, within `lastNSec`, and with a
 * filter `predicate` (then up to maxCount rows are read, filtered, and the newest `count` kept).
 * Throws a LarderError for a count above maxCount, a negative window or a bad filter.
 */
export interface ActionRead {
  readonly count: number;
  readonly lastNSec: number | undefined;
  readonly predicate: RowPredicate | undefined;
}

export function actionRead(
  feature: FeatureDef,
  defaultCount: number,
  input: ActionFeatureArgs | null | undefined,
): ActionRead {
  if (input == null) return { count: defaultCount, lastNSec: undefined, predicate: undefined };
  return {
    count: input.count != null ? checkCount(feature, input.count) : defaultCount,
    lastNSec: input.lastNSec != null ? checkLastNSec(input.lastNSec) : undefined,
    predicate: input.filter == null ? undefined : compileRowFilter(feature, input.filter),
  };
}

/** An on-demand feature: fetched at request time, batched per feature, the fallback on failure. */
export function onDemandFeatureResolver(def: OnDemandDef): Resolver {
  return (parent, _args, ctx) => {
    if (ctx.onDemand === undefined) return def.fallback;
    ctx.loader.featuresServed++;
    return ctx.onDemand.load(def, (parent as EntityObject).id);
  };
}

function checkCount(feature: FeatureDef, count: number): number {
  if (count > feature.maxCount) {
    throw new LarderError(
      'LARDER_ERR_COUNT_TOO_LARGE',
      `count ${count} exceeds maxCount ${feature.maxCount} of ${feature.entity}.${feature.name}`,
      { details: { feature: `${feature.entity}.${feature.name}`, maxCount: feature.maxCount } },
    );
  }
  if (count < 1) {
    throw new LarderError('LARDER_ERR_BAD_ARGUMENT', `count must be at least 1, got ${count}`, {
      details: { argument: 'count' },
    });
  }
  return count;
}

function checkLastNSec(lastNSec: number): number {
  if (lastNSec < 0) {
    throw new LarderError('LARDER_ERR_BAD_ARGUMENT', `lastNSec must not be negative, got ${lastNSec}`, {
      details: { argument: 'lastNSec' },
    });
  }
  return lastNSec;
}
