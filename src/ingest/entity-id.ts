import { LarderError } from '../errors.ts';
import type { EntityDef } from '../registry/types.ts';
import { describeValue } from './coerce.ts';
import { compilePath } from './event-path.ts';

/** Reads the entity id of an event as the canonical string used in keys. */
export type EntityIdReader = (body: Record<string, unknown>) => string;

const INT_STRING = /^[+-]?\d+$/;

/**
 * Compiles the entity id reader for one binding. `path` is, in order of precedence, the binding's
 * `entityIdField`, the stream's `entityIdField`, then the entity's `idField`.
 *
 * For `idType: int` the id must be an integer (a number or a string of digits) and is written in
 * canonical decimal (`"007"` → `"7"`), so that `7` and `"7"` land on the same key. For
 * `idType: string` a non-empty string or a finite number is accepted. Anything else, or a missing
 * id, throws `LARDER_ERR_EVENT_ENTITY_ID`.
 */
export function compileEntityIdReader(
  entity: Pick<EntityDef, 'name' | 'idType'>,
  path: string,
): EntityIdReader {
  const read = compilePath(path);
  const fail = (raw: unknown, why: string): never => {
    throw new LarderError(
      'LARDER_ERR_EVENT_ENTITY_ID',
      `entity "${entity.name}" id at "${path}" ${why}, got ${describeValue(raw)}`,
      { details: { entity: entity.name, field: path } },
    );
  };
  if (entity.idType === 'int') {
    return (body) => {
      const raw = read(body);
      if (typeof raw === 'number') {
        if (Number.isSafeInteger(raw)) return String(raw);
        return fail(raw, 'must be an integer');
      }
      if (typeof raw === 'string' && INT_STRING.test(raw.trim())) return BigInt(raw.trim()).toString();
      return fail(raw, raw === undefined || raw === null ? 'is missing' : 'must be an integer');
    };
  }
  return (body) => {
    const raw = read(body);
    if (typeof raw === 'string' && raw !== '') return raw;
    if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
    return fail(
      raw,
      raw === undefined || raw === null || raw === '' ? 'is missing' : 'must be a string or a number',
    );
  };
}
