import type { SpecReader } from './node-reader.ts';
import type { EntityDef, FeatureDef, SourcePos } from './types.ts';

/**
 * The GraphQL names the serving schema gives to registry names, written once here so that the
 * registry refuses, at the name's place, every name the schema could not take; the schema
 * (serve/graphql-schema.ts) builds its types with these same functions.
 *
 * - an entity is the object type `pascalCase(entity)`;
 * - an action feature's rows are `<EntityType><Feature>Row`;
 * - a static feature with several fields (not a map) has the value type `<EntityType><Feature>`.
 */

/** Types every schema has, whatever the registry: the root, the scalars and the shared inputs. */
export const BUILT_IN_TYPE_NAMES: readonly string[] = [
  'Query',
  'Long',
  'JSON',
  'ActionFeatureInput',
  'ActionRowFilter',
  'ID',
  'String',
  'Int',
  'Float',
  'Boolean',
  // rankBy, in schemas of registries with vector features (serve/rank-by-schema.ts).
  'RankByInput',
  'SimilarityToInput',
  'RankEntity',
  'RankFeature',
];

/** The root field every schema has besides the entities. */
export const BUILT_IN_ROOT_FIELD = '_registryVersion';

/** `flea_article` → `FleaArticle`. */
export function pascalCase(name: string): string {
  return name
    .split('_')
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** The object type of an entity. */
export function entityTypeName(entity: string): string {
  return pascalCase(entity);
}

/** The row type of an action feature. */
export function rowTypeName(entity: string, feature: string): string {
  return `${entityTypeName(entity)}${pascalCase(feature)}Row`;
}

/** The value type of a static feature with several fields. */
export function valueTypeName(entity: string, feature: string): string {
  return `${entityTypeName(entity)}${pascalCase(feature)}`;
}

/** Whether a static feature is served as an object type of its own (several fields, not a map). */
export function hasValueType(feature: FeatureDef): boolean {
  return feature.featureType === 'static' && feature.containerType !== 'map' && feature.fields.length > 1;
}

/**
 * Records `LARDER_ERR_SPEC_GRAPHQL_NAME` at each entity or feature whose GraphQL type name is
 * empty, a built-in type, or the type of something declared before it.
 */
export function checkGraphqlTypeNames(
  entities: readonly EntityDef[],
  features: readonly FeatureDef[],
  entityPos: ReadonlyMap<string, SourcePos>,
  reader: SpecReader,
): void {
  const owners = new Map<string, string>(BUILT_IN_TYPE_NAMES.map((name) => [name, 'a built-in type']));
  const claim = (typeName: string, owner: string, at: SourcePos): void => {
    const previous = owners.get(typeName);
    if (previous === undefined) {
      owners.set(typeName, owner);
      return;
    }
    reader.issues.add(
      'LARDER_ERR_SPEC_GRAPHQL_NAME',
      previous === 'a built-in type'
        ? `${owner} is GraphQL type "${typeName}", a built-in type of every schema`
        : `${owner} is GraphQL type "${typeName}", which is already the type of ${previous}`,
      at,
    );
  };
  const unnamed = new Set<string>();
  for (const entity of entities) {
    const at = entityPos.get(entity.name) ?? { file: '.', line: 1, column: 1 };
    if (entityTypeName(entity.name) === '') {
      unnamed.add(entity.name);
      reader.issues.add(
        'LARDER_ERR_SPEC_GRAPHQL_NAME',
        `entity "${entity.name}" has no letters or digits: its GraphQL type name would be empty`,
        at,
      );
      continue;
    }
    claim(entityTypeName(entity.name), `entity "${entity.name}"`, at);
  }
  for (const feature of features) {
    if (unnamed.has(feature.entity)) continue;
    const key = `${feature.entity}.${feature.name}`;
    if (feature.featureType === 'action') {
      claim(rowTypeName(feature.entity, feature.name), `action feature "${key}"`, feature.pos);
    } else if (hasValueType(feature)) {
      claim(valueTypeName(feature.entity, feature.name), `static feature "${key}"`, feature.pos);
    }
  }
}
