import {
  GraphQLBoolean,
  GraphQLFloat,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  printSchema,
  validateSchema,
} from './graphql-runtime.ts';
import type {
  GraphQLFieldConfig,
  GraphQLFieldConfigMap,
  GraphQLObjectType as ObjectType,
  GraphQLSchema as Schema,
  GraphQLOutputType,
} from 'graphql';
import { LarderError } from '../errors.ts';
import { DEFAULT_ACTION_COUNT, defaultActionCount } from '../registry/action-defaults.ts';
import {
  BUILT_IN_TYPE_NAMES,
  entityTypeName as entityTypeNameOf,
  rowTypeName as rowTypeNameOf,
  valueTypeName,
} from '../registry/graphql-names.ts';
import type {
  EntityDef,
  FeatureDef,
  FieldType,
  Registry,
  ScalarType,
  OnDemandDef,
} from '../registry/types.ts';
import { servedJoin, type ServedJoin } from './join-resolvers.ts';
import {
  actionFeatureResolver,
  batchEntityResolver,
  onDemandFeatureResolver,
  singleEntityResolver,
  type GraphQLRequestContext,
} from './feature-resolvers.ts';
import { GraphQLJSONValue, GraphQLLong } from './graphql-scalars.ts';
import { rankableBatchResolver } from './rank-by.ts';
import { rankBySchema } from './rank-by-schema.ts';

/**
 * The GraphQL schema generated from a registry:
 *
 * - root fields `<entity>(id: ID!): <Entity>` and `<plural>(ids: [ID!]!): [<Entity>]!`, plus
 *   `_registryVersion: String!`;
 * - an entity type with `id: ID!` and one field per feature. A static feature with one field is
 *   typed as that field; with several, as an object type `<Entity><Feature>`. `set` is a list of
 *   that, `map` is `JSON`. An action feature takes `(input: ActionFeatureInput)` and returns
 *   `[<Entity><Feature>Row!]!`: the row fields plus `timestamp: Long!` (epoch ms), plus one field
 *   per `join` (`article: FleaArticle`, null when the referenced entity is missing);
 * - one field per on-demand feature (`onDemand.<entity>.<feature>`), typed by its `type`;
 * - a `vector(N)` field is `[Float!]`; in a registry with vector features, the plural root field of
 *   an entity that has one takes `rankBy` (rank-by-schema.ts, rank-by.ts).
 *
 * Pure: Registry in, schema out. Built once per registry version, never per request.
 */
export interface ServingSchema {
  readonly schema: Schema;
  /** The registry version this schema was generated from. */
  readonly registryVersion: string;
  /** The on-demand features the schema serves (`registry.onDemand`). */
  readonly onDemand: readonly OnDemandDef[];
}

type FieldConfig = GraphQLFieldConfig<unknown, GraphQLRequestContext>;

/**
 * What a generated field serves, kept on the field as `extensions.larder` so that code walking a
 * query (the request-cost check, the compiled fast path) knows it without looking names up.
 * Fields without it are plain property reads (ids, row fields, `timestamp`, value-object fields)
 * or built-ins.
 */
export interface LarderFieldInfo {
  /** A root entity field: `<entity>(id)` or `<plural>(ids)`. */
  readonly root?: 'single' | 'batch';
  readonly entity?: EntityDef;
  /** A static feature of an entity type. */
  readonly static?: FeatureDef;
  /** An action feature of an entity type, and the rows it returns when the query gives no count. */
  readonly action?: { readonly entity: EntityDef; readonly feature: FeatureDef };
  readonly defaultCount?: number;
  /** A join field of a row type. */
  readonly join?: ServedJoin;
}

/** One condition of `ActionFeatureInput.filter`: `{field, eq}` or `{field, in}`. */
export const ActionRowFilter = new GraphQLInputObjectType({
  name: 'ActionRowFilter',
  description: 'A condition on a row field: equal to `eq`, or one of `in`. Give exactly one of them.',
  fields: {
    field: { type: new GraphQLNonNull(GraphQLString), description: 'A row field name.' },
    eq: { type: GraphQLJSONValue, description: 'Keep rows whose field equals this value.' },
    in: { type: new GraphQLList(GraphQLJSONValue), description: 'Keep rows whose field is one of these.' },
  },
});

/** Shared by every generated schema: it does not depend on the registry. */
export const ActionFeatureInput = new GraphQLInputObjectType({
  name: 'ActionFeatureInput',
  description: 'Bounds of an action feature read. Rows come newest first.',
  fields: {
    count: {
      type: GraphQLInt,
      description: `At most this many rows (default ${DEFAULT_ACTION_COUNT}, at most the feature's maxCount).`,
    },
    lastNSec: { type: GraphQLInt, description: 'Only rows from the last N seconds.' },
    filter: {
      type: new GraphQLList(new GraphQLNonNull(ActionRowFilter)),
      description: 'Conditions every returned row meets; applied before `count`.',
    },
  },
});

const SCALARS: Record<ScalarType, GraphQLOutputType> = {
  int: GraphQLLong,
  float: GraphQLFloat,
  string: GraphQLString,
  bool: GraphQLBoolean,
  json: GraphQLJSONValue,
};

/** Builds the serving schema of `registry`. Throws LarderError when names clash in GraphQL. */
export function buildServingSchema(registry: Registry): ServingSchema {
  const names = new NameGuard();
  for (const reserved of BUILT_IN_TYPE_NAMES) names.claimType(reserved, 'a built-in type');
  const rootFields: GraphQLFieldConfigMap<unknown, GraphQLRequestContext> = {
    _registryVersion: {
      type: new GraphQLNonNull(GraphQLString),
      description: 'Version (content hash) of the registry this schema was generated from.',
      resolve: () => registry.version,
    },
  };
  const rootNames = new Map<string, string>([['_registryVersion', 'a built-in field']]);
  const claimRoot = (field: string, owner: string): void => {
    const previous = rootNames.get(field);
    if (previous !== undefined) throw clash(`root field "${field}"`, previous, owner);
    rootNames.set(field, owner);
  };

  const onDemand = registry.onDemand;
  const rankBy = rankBySchema(registry);
  // Entity types first, with lazy fields: a row's join field refers to another entity's type.
  const entityTypes = new Map<string, ObjectType>();
  for (const entity of registry.entities.values()) {
    const features = [...(registry.featuresByEntity.get(entity.name)?.values() ?? [])];
    const own = onDemand.filter((d) => d.entity === entity.name);
    entityTypes.set(entity.name, buildEntityType(entity, features, own, names, { registry, entityTypes }));
  }
  for (const entity of registry.entities.values()) {
    const entityType = entityTypes.get(entity.name)!;
    const features = [...(registry.featuresByEntity.get(entity.name)?.values() ?? [])];
    claimRoot(entity.name, `entity "${entity.name}"`);
    claimRoot(entity.plural, `the plural of entity "${entity.name}"`);
    rootFields[entity.name] = {
      type: entityType,
      args: { id: { type: new GraphQLNonNull(GraphQLID) } },
      extensions: { larder: { root: 'single', entity } satisfies LarderFieldInfo },
      resolve: singleEntityResolver(entity, features),
    };
    const rankable = rankBy !== undefined && rankBy.rankable.has(entity.name);
    rootFields[entity.plural] = {
      type: new GraphQLNonNull(new GraphQLList(entityType)),
      description: `Many ${entity.name} entities at once, in the order of \`ids\`${rankable ? ' (or ranked, with `rankBy`)' : ''}.`,
      args: {
        ids: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLID))) },
        ...(rankable ? { rankBy: rankBy.arg } : {}),
      },
      extensions: { larder: { root: 'batch', entity } satisfies LarderFieldInfo },
      resolve: rankable
        ? rankableBatchResolver(registry, entity, features)
        : batchEntityResolver(entity, features),
    };
  }

  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: rootFields }),
    types: [ActionFeatureInput],
  });
  // Fields are thunks: resolving them here surfaces name clashes as LarderErrors now.
  for (const type of entityTypes.values()) type.getFields();
  const problems = validateSchema(schema);
  if (problems.length > 0) {
    throw new LarderError(
      'LARDER_ERR_SPEC_GRAPHQL_NAME',
      `the registry does not make a valid GraphQL schema: ${problems.map((p) => p.message).join('; ')}`,
    );
  }
  return { schema, registryVersion: registry.version, onDemand };
}

/** The SDL of a built schema, for docs and `larder schema`-style tooling. */
export function printServingSchema(serving: ServingSchema): string {
  return printSchema(serving.schema);
}

/** What join fields need to find their target entity's type and features. */
interface JoinScope {
  readonly registry: Registry;
  readonly entityTypes: ReadonlyMap<string, ObjectType>;
}

function buildEntityType(
  entity: EntityDef,
  features: readonly FeatureDef[],
  onDemand: readonly OnDemandDef[],
  names: NameGuard,
  scope: JoinScope,
): ObjectType {
  const typeName = entityTypeNameOf(entity.name);
  names.claimType(typeName, `entity "${entity.name}"`);
  return new GraphQLObjectType({
    name: typeName,
    description: `Features of entity \`${entity.name}\` (key prefix \`${entity.prefix}\`).`,
    fields: () => {
      const fields: GraphQLFieldConfigMap<unknown, GraphQLRequestContext> = {
        // Plain properties of the EntityObject: no resolver (see feature-resolvers.ts).
        id: { type: new GraphQLNonNull(GraphQLID) },
      };
      for (const feature of features) {
        if (Object.hasOwn(fields, feature.name)) {
          throw clash(
            `field "${typeName}.${feature.name}"`,
            'the entity id',
            `feature "${entity.name}.${feature.name}"`,
          );
        }
        fields[feature.name] =
          feature.featureType === 'action'
            ? actionField(entity, feature, names, scope)
            : staticField(entity, feature, names);
      }
      for (const def of onDemand) {
        if (Object.hasOwn(fields, def.name)) {
          throw clash(
            `field "${typeName}.${def.name}"`,
            'a stored feature or the id',
            `on-demand feature "${entity.name}.${def.name}"`,
          );
        }
        fields[def.name] = {
          type: fieldType(def.type),
          description: `On-demand: fetched from ${new URL(def.url.replaceAll('{ids}', 'x').replaceAll('{id}', 'x')).origin} at request time (fallback on failure).`,
          resolve: onDemandFeatureResolver(def),
        };
      }
      return fields;
    },
  });
}

function staticField(entity: EntityDef, feature: FeatureDef, names: NameGuard): FieldConfig {
  let type: GraphQLOutputType;
  if (feature.containerType === 'map' || feature.fields.length === 0) {
    type = GraphQLJSONValue;
  } else {
    const member =
      feature.fields.length === 1
        ? fieldType(feature.fields[0]!.type)
        : valueObjectType(valueTypeName(entity.name, feature.name), feature, names);
    type = feature.containerType === 'set' ? new GraphQLList(member) : member;
  }
  return {
    type,
    description: feature.description,
    extensions: { larder: { static: feature } satisfies LarderFieldInfo },
  };
}

function actionField(
  entity: EntityDef,
  feature: FeatureDef,
  names: NameGuard,
  scope: JoinScope,
): FieldConfig {
  const rowTypeName = rowTypeNameOf(entity.name, feature.name);
  names.claimType(rowTypeName, `action feature "${feature.entity}.${feature.name}"`);
  const rowFields: GraphQLFieldConfigMap<unknown, GraphQLRequestContext> = {};
  for (const field of feature.fields) {
    // Rows reach GraphQL as plain objects (fields, timestamp, joined entities): no resolvers.
    rowFields[field.name] = { type: fieldType(field.type) };
  }
  if (Object.hasOwn(rowFields, 'timestamp')) {
    throw clash(
      `field "${rowTypeName}.timestamp"`,
      'the row timestamp',
      `a field of "${feature.entity}.${feature.name}"`,
    );
  }
  rowFields['timestamp'] = {
    type: new GraphQLNonNull(GraphQLLong),
    description: 'Event time, epoch milliseconds.',
  };
  const joins: ServedJoin[] = [];
  for (const join of feature.joins) {
    const target = scope.registry.entities.get(join.entity);
    const targetType = scope.entityTypes.get(join.entity);
    if (target === undefined || targetType === undefined) continue; // the registry loader refuses this
    if (Object.hasOwn(rowFields, join.as)) {
      throw clash(
        `field "${rowTypeName}.${join.as}"`,
        'a row field',
        `the join of "${feature.entity}.${feature.name}"`,
      );
    }
    const served = servedJoin(join, target, [
      ...(scope.registry.featuresByEntity.get(join.entity)?.values() ?? []),
    ]);
    joins.push(served);
    rowFields[join.as] = {
      type: targetType,
      extensions: { larder: { join: served } satisfies LarderFieldInfo },
      description: `The ${join.entity} whose id is in \`${join.field}\`; null when it has no features.`,
    };
  }
  const rowType = new GraphQLObjectType({ name: rowTypeName, fields: rowFields });
  return {
    type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(rowType))),
    description: feature.description,
    args: { input: { type: ActionFeatureInput } },
    // Read by the request-cost check (rows a query without `count` returns).
    extensions: {
      larder: {
        defaultCount: defaultActionCount(feature),
        action: { entity, feature },
      } satisfies LarderFieldInfo,
    },
    resolve: actionFeatureResolver(entity, feature, joins),
  };
}

/** The object type of a static value with several fields; the stored value is keyed by field name. */
function valueObjectType(typeName: string, feature: FeatureDef, names: NameGuard): ObjectType {
  names.claimType(typeName, `static feature "${feature.entity}.${feature.name}"`);
  const fields: GraphQLFieldConfigMap<unknown, GraphQLRequestContext> = {};
  for (const field of feature.fields) fields[field.name] = { type: fieldType(field.type) };
  return new GraphQLObjectType({ name: typeName, fields });
}

function fieldType(type: FieldType): GraphQLOutputType {
  // A vector is never sparse: `[Float!]`.
  if (type.vector !== undefined) return new GraphQLList(new GraphQLNonNull(GraphQLFloat));
  const scalar = SCALARS[type.scalar];
  return type.list ? new GraphQLList(scalar) : scalar;
}

/** Detects two registry names that map to one GraphQL type name (`user_x` and `userX`, say). */
class NameGuard {
  readonly #types = new Map<string, string>();

  claimType(typeName: string, owner: string): void {
    const previous = this.#types.get(typeName);
    if (previous !== undefined) throw clash(`type "${typeName}"`, previous, owner);
    this.#types.set(typeName, owner);
  }
}

function clash(what: string, first: string, second: string): LarderError {
  return new LarderError(
    'LARDER_ERR_SPEC_GRAPHQL_NAME',
    `${what} is claimed by both ${first} and ${second}`,
    {
      details: { first, second },
    },
  );
}
