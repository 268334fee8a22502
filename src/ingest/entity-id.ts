import { LarderError } from '../errors.ts';
import { entityIdKey } from '../keys/keys.ts';
import type { EntityDef } from '../registry/types.ts';
import { describeValue } from './coerce.ts';
import { keyTextProblem, MAX_ENTITY_ID_BYTES } from './event-bounds.ts';
import { compilePath } from './event-path.ts';

/** Reads the entity id of an event in its key form (see `entityIdKey`). */
export type EntityIdReader = (body: Record<string, unknown>) => string;

/**
 * Compiles the entity id reader for one binding. `path` is, in order of precedence, the binding's
 * `entityIdField`, the stream's `entityIdField`, then the entity's `idField`. The id is written in
 * its key form (`entityIdKey`: `"007"` is `"7"` for `idType: int`); a missing id, or one that is
 * not an id of the entity's type, or one that cannot be part of a key (over 1024 bytes, a NUL, a
 * lone surrogate), throws `LARDER_ERR_EVENT_ENTITY_ID`.
 */
export function compileEntityIdReader(
  entity: Pick<EntityDef, 'name' | 'idType'>,
  path: string,
): EntityIdReader {
  const read = compilePath(path);
  const { idType } = entity;
  const expected = idType === 'int' ? 'must be an integer' : 'must be a string or a number';
  return (body) => {
    const raw = read(body);
    const id = entityIdKey(idType, raw);
    if (id !== undefined) {
      const problem = keyTextProblem(id, MAX_ENTITY_ID_BYTES);
      if (problem === undefined) return id;
      throw new LarderError(
        'LARDER_ERR_EVENT_ENTITY_ID',
        `entity "${entity.name}" id at "${path}" ${problem}, got ${describeValue(raw)}`,
        { details: { entity: entity.name, field: path } },
      );
    }
    const missing = raw === undefined || raw === null || (idType === 'string' && raw === '');
    throw new LarderError(
      'LARDER_ERR_EVENT_ENTITY_ID',
      `entity "${entity.name}" id at "${path}" ${missing ? 'is missing' : expected}, got ${describeValue(raw)}`,
      { details: { entity: entity.name, field: path } },
    );
  };
}
