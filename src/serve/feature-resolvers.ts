import { LarderError } from '../errors.ts';
import { partitionKey } from '../model/keys.ts';
import type { EntityDef, FeatureDef } from '../spec/types.ts';
import type { ActionRow } from '../store/online-store.ts';
import type { OnDemandLoader } from './on-demand/on-demand-loader.ts';
import type { OnDemandDef } from './on-demand/on-demand-spec.ts';
import type { GraphQLResolveInfo } from 'graphql';
import { prefetchJoins, selectedJoins } from './join-resolvers.ts';
import type { JoinPlan } from './join-resolvers.ts';
import type { RequestLoader } from './request-loader.ts';
import { applyRowFilter, compileRowFilter } from './row-filter.ts';
import type { RowFilterInput } from './row-filter.ts';

/**
 * Resolver factories for the generated schema. Each resolver closes over the FeatureDef/EntityDef of
 * the registry it was built from, never over the registry holder: a request that started on one
 * schema finishes on it even if a reload swaps the schema mid-flight.
 *
 * An entity is represented during execution by its canonical id string alone (no wrapper object),
 * so a batch query of N ids allocates nothing per entity before the store reads.
 */

/** What the GraphQL context must carry (Mercurius adds `reply`, `app`, ... beside it). */
export interface GraphQLRequestContext {
  readonly loader: RequestLoader;
  /** Per-request batching of on-demand features; absent when the registry declares none. */
  readonly onDemand?: OnDemandLoader;
}

/** Rows returned when an action feature's `input.count` is not given (bounded by maxCount). */
export const DEFAULT_ACTION_COUNT = 30;

type Resolver = (
  parent: unknown,
  args: Record<string, unknown>,
  ctx: GraphQLRequestContext,
  info?: GraphQLResolveInfo,
) => unknown;

const CANONICAL_INT = /^(0|-?[1-9]\d*)$/;
const INT = /^[+-]?\d+$/;

/**
 * The canonical id string used in keys, matching what ingestion writes: for `idType: int`,
 * canonical decimal (`"007"` → `"7"`); for strings, the string itself (non-empty).
 */
export function canonicalEntityId(entity: EntityDef, raw: unknown): string {
  const id = typeof raw === 'string' ? raw : String(raw);
  if (entity.idType === 'int') {
    if (CANONICAL_INT.test(id)) return id;
    if (INT.test(id)) return BigInt(id).toString();
    throw new LarderError(
      'LARDER_ERR_BAD_ARGUMENT',
      `${entity.name} ids are integers; got "${truncate(id)}"`,
      {
        details: { entity: entity.name },
      },
    );
  }
  if (id === '') {
    throw new LarderError('LARDER_ERR_BAD_ARGUMENT', `${entity.name} id must not be empty`, {
      details: { entity: entity.name },
    });
  }
  return id;
}

/** `<entity>(id: ID!)`: the entity is its id; features resolve from it. */
export function singleEntityResolver(entity: EntityDef): Resolver {
  return (_root, args) => canonicalEntityId(entity, args['id']);
}

/** `<plural>(ids: [ID!]!)`: one entry per id, in the same order, duplicates included. */
export function batchEntityResolver(entity: EntityDef): Resolver {
  return (_root, args) => {
    const ids = args['ids'] as readonly string[];
    // Usually every id is already canonical: hand the argument array back as is.
    for (let i = 0; i < ids.length; i++) {
      if (canonicalEntityId(entity, ids[i]) !== ids[i]) return ids.map((id) => canonicalEntityId(entity, id));
    }
    return ids;
  };
}

/** `id: ID!` on an entity type. */
export const entityIdResolver: Resolver = (id) => id;

/** A static feature: the stored value, batched with every other static read of the request. */
export function staticFeatureResolver(entity: EntityDef, feature: FeatureDef): Resolver {
  const group = feature.name;
  return (id, _args, ctx) => ctx.loader.staticValue(partitionKey(entity, id as string, group));
}

/** The rows an action feature returns when the query gives no count. */
export function defaultActionCount(feature: FeatureDef): number {
  return Math.min(DEFAULT_ACTION_COUNT, feature.maxCount);
}

/**
 * An action feature: newest-first rows bounded by `input.count` and `input.lastNSec`. With
 * `input.filter`, up to maxCount rows are read, filtered, and the newest `count` kept.
 */
export function actionFeatureResolver(
  entity: EntityDef,
  feature: FeatureDef,
  joins: readonly JoinPlan[] = [],
): Resolver {
  const group = feature.name;
  const defaultCount = defaultActionCount(feature);
  // With joins selected, the rows are handed out only once their joined entities are read, so
  // the join fields answer synchronously.
  const served = (
    loader: RequestLoader,
    rows: ActionRow[],
    info: GraphQLResolveInfo | undefined,
  ): ActionRow[] | Promise<ActionRow[]> => {
    loader.rowsServed += rows.length;
    loader.featuresServed += rows.length;
    if (joins.length === 0 || rows.length === 0 || info === undefined) return rows;
    const selected = selectedJoins(joins, info);
    if (selected.length === 0) return rows;
    return prefetchJoins(rows, selected, loader).then(() => rows);
  };
  return (id, args, ctx, info) => {
    const input = args['input'] as
      | { count?: number | null; lastNSec?: number | null; filter?: readonly RowFilterInput[] | null }
      | null
      | undefined;
    let count = defaultCount;
    let lastNSec: number | undefined;
    const loader = ctx.loader;
    if (input != null) {
      if (input.count != null) count = checkCount(feature, input.count);
      if (input.lastNSec != null) lastNSec = checkLastNSec(feature, input.lastNSec);
      const predicate = input.filter == null ? undefined : compileRowFilter(feature, input.filter);
      if (predicate !== undefined) {
        return loader
          .range(partitionKey(entity, id as string, group), feature.maxCount, lastNSec)
          .then((rows) => {
            const kept = applyRowFilter(rows, predicate, count);
            loader.rowsServed += kept.length;
            loader.featuresServed += kept.length;
            return kept;
          });
      }
    }
    return loader
      .range(partitionKey(entity, id as string, group), count, lastNSec)
      .then((rows) => served(loader, rows, info));
  };
}

/** An on-demand feature: fetched at request time, batched per feature, the fallback on failure. */
export function onDemandFeatureResolver(def: OnDemandDef): Resolver {
  return (id, _args, ctx) => {
    if (ctx.onDemand === undefined) return def.fallback;
    ctx.loader.featuresServed++;
    return ctx.onDemand.load(def, id as string);
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

function checkLastNSec(_feature: FeatureDef, lastNSec: number): number {
  if (lastNSec < 0) {
    throw new LarderError('LARDER_ERR_BAD_ARGUMENT', `lastNSec must not be negative, got ${lastNSec}`, {
      details: { argument: 'lastNSec' },
    });
  }
  return lastNSec;
}

/** `timestamp: Long!` on an action row. */
export const rowTimestampResolver = (row: ActionRow): number => row.ts;

/** One renamed field of an action row. */
export function rowFieldResolver(name: string): (row: ActionRow) => unknown {
  return (row) => row.values[name];
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
