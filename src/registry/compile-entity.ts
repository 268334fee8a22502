import { BUILT_IN_ROOT_FIELD } from './graphql-names.ts';
import type { Declaration } from './merge-documents.ts';
import type { SpecReader } from './node-reader.ts';
import type { EntityDef, SourcePos } from './types.ts';

export const ENTITY_KEYS = ['prefix', 'idType', 'idField', 'plural'] as const;
export const ID_TYPES = ['int', 'string'] as const;

/** An entity with every default: used for entities implied by `features.<entity>`. */
export function defaultEntity(name: string, declared: boolean): EntityDef {
  return { name, prefix: `${name}:`, idType: 'string', idField: `${name}_id`, plural: `${name}s`, declared };
}

/** Compiles `entities.<name>`; invalid settings are reported and replaced by their defaults. */
export function compileEntity(decl: Declaration, reader: SpecReader): EntityDef {
  const what = `entities.${decl.name}`;
  reader.name(decl.name, 'entity name', decl.keyPos);
  const base = defaultEntity(decl.name, true);
  const map = reader.map(decl.value, what);
  if (map === undefined) return base;
  const keys = reader.keys(map, ENTITY_KEYS, what);

  const prefix = reader.optionalString(keys.prefix, `${what}.prefix`);
  if (prefix !== undefined && prefix.includes('#')) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what}.prefix must not contain "#": it separates the parts of a storage key`,
      keys.prefix?.value.pos ?? decl.keyPos,
      'Use a prefix such as "u:" or "c:flea".',
    );
  }
  const plural = reader.optionalString(keys.plural, `${what}.plural`);
  if (plural !== undefined) reader.name(plural, `${what}.plural`, keys.plural?.value.pos ?? decl.keyPos);
  const idFieldNode = keys.idField?.value;
  const idField = idFieldNode?.kind === 'scalar' && idFieldNode.value === null ? undefined : idFieldNode;

  return {
    ...base,
    prefix: prefix !== undefined && !prefix.includes('#') ? prefix : base.prefix,
    idType: reader.oneOf(keys.idType, `${what}.idType`, ID_TYPES) ?? base.idType,
    idField: reader.path(idField, `${what}.idField`) ?? base.idField,
    plural: plural ?? base.plural,
  };
}

/**
 * Entity names and plurals all become GraphQL root fields (`user(id)`, `users(ids)`), and prefixes
 * partition the store: report any two that collide.
 */
export function checkEntityCollisions(
  entities: readonly EntityDef[],
  positions: ReadonlyMap<string, { name: SourcePos; plural: SourcePos; prefix: SourcePos }>,
  reader: SpecReader,
): void {
  const roots = new Map<string, string>([
    [BUILT_IN_ROOT_FIELD, `the built-in root field ${BUILT_IN_ROOT_FIELD}`],
  ]);
  for (const entity of entities) {
    if (entity.name === BUILT_IN_ROOT_FIELD) {
      reader.issues.add(
        'LARDER_ERR_SPEC_ROOT_CONFLICT',
        `entity "${entity.name}" collides with the built-in root field ${BUILT_IN_ROOT_FIELD}`,
        positions.get(entity.name)?.name ?? { file: '.', line: 1, column: 1 },
        'Rename the entity.',
      );
      continue;
    }
    roots.set(entity.name, `the entity "${entity.name}"`);
  }
  for (const entity of entities) {
    const at = positions.get(entity.name);
    const owner = roots.get(entity.plural);
    if (owner !== undefined) {
      reader.issues.add(
        'LARDER_ERR_SPEC_ROOT_CONFLICT',
        `plural "${entity.plural}" of entity "${entity.name}" collides with ${owner}: both would be GraphQL root fields`,
        at?.plural ?? { file: '.', line: 1, column: 1 },
        `Set entities.${entity.name}.plural to a name no other entity uses.`,
      );
    } else {
      roots.set(entity.plural, `the plural of entity "${entity.name}"`);
    }
  }
  // `c:` and `c:flea` clash too: id `flea1` of the first gives the same key as id `1` of the second.
  const seen: EntityDef[] = [];
  for (const entity of entities) {
    const other = seen.find((e) => e.prefix.startsWith(entity.prefix) || entity.prefix.startsWith(e.prefix));
    if (other === undefined) {
      seen.push(entity);
      continue;
    }
    reader.issues.add(
      'LARDER_ERR_SPEC_ROOT_CONFLICT',
      `prefix "${entity.prefix}" of entity "${entity.name}" overlaps prefix "${other.prefix}" of entity "${other.name}": their keys would mix in the store`,
      positions.get(entity.name)?.prefix ?? { file: '.', line: 1, column: 1 },
      `Give entities.${entity.name}.prefix a value no other entity uses.`,
    );
  }
}
