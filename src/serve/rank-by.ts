import type { GraphQLResolveInfo } from 'graphql';
import { LarderError } from '../errors.ts';
import { vectorDimension, vectorFeatures } from '../registry/vector-features.ts';
import type { EntityDef, FeatureDef, Registry } from '../registry/types.ts';
import { canonicalEntityId } from './entity-id.ts';
import type { EntityObject } from './entity-object.ts';
import { batchEntityResolver, type GraphQLRequestContext } from './feature-resolvers.ts';
import { perFieldNode, selectedNames } from './selection.ts';

/** The `rankBy` argument as GraphQL coerced it (see rank-by-schema.ts). */
interface RankByArgs {
  readonly similarityTo: { readonly entity: string; readonly id: string; readonly feature: string };
  readonly feature?: string | null;
  readonly limit?: number | null;
}

type Resolver = (
  parent: unknown,
  args: Record<string, unknown>,
  ctx: GraphQLRequestContext,
  info?: GraphQLResolveInfo,
) => unknown;

/** What one request compares: the target's vector feature and the candidates'. */
interface RankPlan {
  readonly target: EntityDef;
  readonly targetFeature: FeatureDef;
  readonly candidateFeature: FeatureDef;
  readonly dim: number;
}

/**
 * `<plural>(ids, rankBy)`: without `rankBy`, the plain batch resolver. With it, the candidates
 * ranked by cosine similarity of their vector feature to the target's vector, highest first, at
 * most `limit` of them:
 *
 * 1. the target's vector and every candidate's vector are read in one pass (one store read per
 *    entity type, through the cache levels like any read);
 * 2. candidates are scored; those without a vector, with a zero vector, or with a stored value of
 *    another length are left out; equal scores keep the order of `ids`; duplicates count once;
 * 3. the features the query selects are read for the kept candidates only.
 *
 * A target without a vector leaves every candidate out: the answer is `[]`. A feature that is not
 * a vector, or dimensions that differ, fail the field with `LARDER_ERR_RANK_BY`.
 */
export function rankableBatchResolver(
  registry: Registry,
  entity: EntityDef,
  features: readonly FeatureDef[],
): Resolver {
  const plain = batchEntityResolver(entity, features);
  const statics = new Set(features.filter((f) => f.featureType === 'static').map((f) => f.name));
  const selector = perFieldNode((info) => [...selectedNames(info)].filter((name) => statics.has(name)));
  return (root, args, ctx, info) => {
    const rankBy = args['rankBy'] as RankByArgs | null | undefined;
    if (rankBy === null || rankBy === undefined) return plain(root, args, ctx, info);
    const plan = rankPlan(registry, entity, rankBy);
    const limit = rankBy.limit ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 0)) {
      throw new LarderError('LARDER_ERR_RANK_BY', `rankBy.limit must be 0 or more; got ${limit}`);
    }
    const targetId = canonicalEntityId(plan.target, rankBy.similarityTo.id);
    const ids = [...new Set((args['ids'] as readonly unknown[]).map((id) => canonicalEntityId(entity, id)))];
    const selected = info === undefined ? [] : selector(info);
    return rankCandidates(ctx, plan, entity, ids, targetId, limit, selected);
  };
}

async function rankCandidates(
  ctx: GraphQLRequestContext,
  plan: RankPlan,
  entity: EntityDef,
  ids: readonly string[],
  targetId: string,
  limit: number,
  selected: readonly string[],
): Promise<EntityObject[]> {
  const loader = ctx.loader;
  const vectorName = plan.candidateFeature.name;
  // Both asked in the same pass: one flush reads the target and the candidates together.
  await Promise.all([
    loader.loadEntities(plan.target, [targetId], [plan.targetFeature.name]),
    loader.loadEntities(entity, ids, [vectorName]),
  ]);
  const target = asVector(loader.entityObject(plan.target, targetId)[plan.targetFeature.name], plan.dim);
  const targetNorm = target === undefined ? 0 : norm(target);
  if (target === undefined || targetNorm === 0) return [];
  const scored: { readonly id: string; readonly score: number; readonly at: number }[] = [];
  ids.forEach((id, at) => {
    const v = asVector(loader.entityObject(entity, id)[vectorName], plan.dim);
    if (v === undefined) return;
    const n = norm(v);
    if (n === 0) return;
    scored.push({ id, score: dot(target, v) / (targetNorm * n), at });
  });
  scored.sort((a, b) => b.score - a.score || a.at - b.at);
  const kept = scored.slice(0, Math.min(limit, scored.length)).map((s) => s.id);
  const rest = selected.filter((name) => name !== vectorName);
  if (kept.length > 0 && rest.length > 0) await loader.loadEntities(entity, kept, rest);
  return kept.map((id) => loader.entityObject(entity, id));
}

/** Which features a request compares, or `LARDER_ERR_RANK_BY` saying why they cannot be. */
function rankPlan(registry: Registry, entity: EntityDef, rankBy: RankByArgs): RankPlan {
  const { similarityTo } = rankBy;
  const target = registry.entities.get(similarityTo.entity);
  const targetFeature = registry.featuresByEntity.get(similarityTo.entity)?.get(similarityTo.feature);
  const dim = targetFeature === undefined ? undefined : vectorDimension(targetFeature);
  if (target === undefined || targetFeature === undefined || dim === undefined) {
    throw rankError(
      `rankBy.similarityTo: ${similarityTo.entity} has no vector feature "${similarityTo.feature}"`,
      vectorNames(registry, similarityTo.entity),
      similarityTo.entity,
    );
  }
  const own = vectorFeatures(registry.featuresByEntity.get(entity.name)?.values() ?? []);
  let candidateFeature: FeatureDef | undefined;
  if (rankBy.feature !== null && rankBy.feature !== undefined) {
    candidateFeature = own.find((f) => f.name === rankBy.feature);
    if (candidateFeature === undefined) {
      throw rankError(
        `rankBy.feature: ${entity.name} has no vector feature "${rankBy.feature}"`,
        vectorNames(registry, entity.name),
        entity.name,
      );
    }
  } else {
    const fitting = own.filter((f) => vectorDimension(f) === dim);
    if (fitting.length !== 1) {
      throw rankError(
        fitting.length === 0
          ? `rankBy: ${entity.name} has no vector(${dim}) feature to compare with ${target.name}.${targetFeature.name}`
          : `rankBy: ${entity.name} has several vector(${dim}) features (${fitting.map((f) => f.name).join(', ')}); name one with rankBy.feature`,
        vectorNames(registry, entity.name),
        entity.name,
      );
    }
    candidateFeature = fitting[0]!;
  }
  const candidateDim = vectorDimension(candidateFeature);
  if (candidateDim !== dim) {
    throw new LarderError(
      'LARDER_ERR_RANK_BY',
      `rankBy: ${target.name}.${targetFeature.name} is vector(${dim}) but ${entity.name}.${candidateFeature.name} is vector(${candidateDim}); only vectors of one dimension compare`,
    );
  }
  return { target, targetFeature, candidateFeature, dim };
}

function vectorNames(registry: Registry, entity: string): string[] {
  return vectorFeatures(registry.featuresByEntity.get(entity)?.values() ?? []).map(
    (f) => `${f.name}: vector(${vectorDimension(f)})`,
  );
}

function rankError(message: string, available: readonly string[], entity: string): LarderError {
  const tail =
    available.length === 0
      ? `; ${entity} has no vector feature`
      : `; its vector features: ${available.join(', ')}`;
  return new LarderError('LARDER_ERR_RANK_BY', message + tail, { details: { entity } });
}

/**
 * A stored value as a vector of `dim` numbers, or undefined: a Float32Array as stored, or a plain
 * array of numbers (a value written before the field became a vector).
 */
function asVector(value: unknown, dim: number): ArrayLike<number> | undefined {
  if (value instanceof Float32Array) return value.length === dim ? value : undefined;
  if (!Array.isArray(value) || value.length !== dim) return undefined;
  return value.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (value as number[]) : undefined;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}
