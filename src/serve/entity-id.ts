import { LarderError } from '../errors.ts';
import type { EntityDef } from '../registry/types.ts';

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

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
