import type { EntityDef } from '../registry/types.ts';

/**
 * The storage key format, written once. A partition key is `<prefix><entity id>#<group>`, for
 * example `u:1111#recent_view_articles` (prefix `u:`): the prefix carries its own separator and
 * never contains `#` (the loader refuses it), group names are GraphQL names, so the last `#` of a
 * key always separates the id from the group, whatever the id contains.
 */

const CANONICAL_INT = /^(0|-?[1-9]\d*)$/;
const INT = /^[+-]?\d+$/;

/**
 * The key form of a raw entity id, or undefined when `raw` is not an id of `idType`. Ingestion
 * (stream, HTTP push, batch) and serving (GraphQL arguments, REST, joins, the fast path) all
 * turn ids into keys here, so an id written one way reads back any other way:
 *
 * - `int`: a safe integer number, or a string of decimal digits with an optional sign, surrounding
 *   whitespace ignored. Written in canonical decimal: `7`, `"7"`, `"007"`, `"+7"` and `" 7 "` are
 *   all `"7"`; `"-0"` is `"0"`. Strings beyond 2^53 keep every digit.
 * - `string`: a non-empty string, exactly as given (no trimming: `" a"` and `"a"` are two ids),
 *   or a finite number, as its decimal text (`7` is `"7"`).
 *
 * Anything else (a missing value, `""`, a boolean, an object, `7.5` for an int id) is not an id.
 */
export function entityIdKey(idType: EntityDef['idType'], raw: unknown): string | undefined {
  if (idType === 'int') {
    if (typeof raw === 'string') {
      if (CANONICAL_INT.test(raw)) return raw;
      const text = raw.trim();
      return INT.test(text) ? BigInt(text).toString() : undefined;
    }
    return typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : undefined;
  }
  if (typeof raw === 'string') return raw === '' ? undefined : raw;
  return typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : undefined;
}

/** The partition key of feature group `group` for one entity (`entityId` in key form). */
export function partitionKey(entity: Pick<EntityDef, 'prefix'>, entityId: string, group: string): string {
  return `${entity.prefix}${entityId}#${group}`;
}

/** The group a partition key names, or undefined for a key without one. */
export function groupOfKey(pk: string): string | undefined {
  const hash = pk.lastIndexOf('#');
  return hash < 0 ? undefined : pk.slice(hash + 1);
}

/** The entity id of a partition key of `entity` (the key must start with the entity's prefix). */
export function entityIdOfKey(entity: Pick<EntityDef, 'prefix'>, pk: string): string {
  return pk.slice(entity.prefix.length, pk.lastIndexOf('#'));
}
