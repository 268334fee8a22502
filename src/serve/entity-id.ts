import { LarderError } from '../errors.ts';
import { entityIdKey } from '../keys/keys.ts';
import type { EntityDef } from '../registry/types.ts';

/**
 * The key form of an id argument (`entityIdKey`, the rule ingestion writes with); a value that is
 * not an id of the entity's type fails the request with `LARDER_ERR_BAD_ARGUMENT`.
 */
export function canonicalEntityId(entity: EntityDef, raw: unknown): string {
  const id = entityIdKey(entity.idType, raw);
  if (id !== undefined) return id;
  const text = typeof raw === 'string' ? raw : String(raw);
  const message =
    entity.idType === 'int'
      ? `${entity.name} ids are integers; got "${truncate(text)}"`
      : text === ''
        ? `${entity.name} id must not be empty`
        : `${entity.name} ids are strings; got "${truncate(text)}"`;
  throw new LarderError('LARDER_ERR_BAD_ARGUMENT', message, { details: { entity: entity.name } });
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
