import {
  GraphQLEnumType,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLNonNull,
} from './graphql-runtime.ts';
import type { GraphQLArgumentConfig } from 'graphql';
import { vectorFeatures } from '../registry/vector-features.ts';
import type { Registry } from '../registry/types.ts';

/**
 * The `rankBy` argument of batch root fields, in schemas of registries that have vector features
 * (static single features of one `vector(N)` field):
 *
 * ```graphql
 * flea_articles(ids: [...], rankBy: {similarityTo: {entity: user, id: 1, feature: interest_vector}, limit: 20})
 * ```
 *
 * `entity` and `feature` are enums (`RankEntity`, `RankFeature`) of the registry's names, so the
 * query names them unquoted and a misspelling fails validation. Which pairs fit (the feature is
 * a vector of that entity, the dimensions agree) is checked per request by `rank-by.ts`.
 */
export interface RankBySchema {
  /** The `rankBy` argument, for the plural fields of entities with a vector feature. */
  readonly arg: GraphQLArgumentConfig;
  /** Entities whose plural field takes `rankBy`. */
  readonly rankable: ReadonlySet<string>;
}

/** GraphQL refuses these as enum values. */
const NOT_ENUM_VALUES = new Set(['true', 'false', 'null']);

/** The rankBy types of `registry`, or undefined when it has no vector feature. */
export function rankBySchema(registry: Registry): RankBySchema | undefined {
  const vectors = vectorFeatures(registry.features).filter((f) => !NOT_ENUM_VALUES.has(f.name));
  if (vectors.length === 0) return undefined;
  const entities = [...new Set(vectors.map((f) => f.entity))].filter((e) => !NOT_ENUM_VALUES.has(e));
  const features = [...new Set(vectors.map((f) => f.name))];
  const RankEntity = new GraphQLEnumType({
    name: 'RankEntity',
    description: 'An entity with a vector feature.',
    values: Object.fromEntries(entities.map((name) => [name, { value: name }])),
  });
  const RankFeature = new GraphQLEnumType({
    name: 'RankFeature',
    description: 'A vector feature (a static feature of one `vector(N)` field).',
    values: Object.fromEntries(features.map((name) => [name, { value: name }])),
  });
  const SimilarityToInput = new GraphQLInputObjectType({
    name: 'SimilarityToInput',
    description: 'The vector candidates are compared with: `feature` of entity `entity` with id `id`.',
    fields: {
      entity: { type: new GraphQLNonNull(RankEntity) },
      id: { type: new GraphQLNonNull(GraphQLID) },
      feature: { type: new GraphQLNonNull(RankFeature) },
    },
  });
  const RankByInput = new GraphQLInputObjectType({
    name: 'RankByInput',
    description:
      'Ranks the candidates by cosine similarity of their vector feature to another vector, highest first. ' +
      'Candidates without a vector (or with a zero vector) are left out.',
    fields: {
      similarityTo: { type: new GraphQLNonNull(SimilarityToInput) },
      feature: {
        type: RankFeature,
        description:
          "The candidates' vector feature; needed only when they have several of the dimension compared.",
      },
      limit: {
        type: GraphQLInt,
        description: 'At most this many candidates (default: all that have a vector).',
      },
    },
  });
  return {
    arg: {
      type: RankByInput,
      description: 'Return the candidates ranked by vector similarity instead of in the order of `ids`.',
    },
    rankable: new Set(vectors.map((f) => f.entity)),
  };
}
