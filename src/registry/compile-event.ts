import { compileFilter } from './compile-filter.ts';
import { isValidStreamName } from './compile-stream.ts';
import { readFieldType } from './field-type.ts';
import { isObjectPropertyName, isValidName, type SpecReader } from './node-reader.ts';
import { formatPos, type SpecNode } from './spec-node.ts';
import type { EventBinding, FieldDef, FilterDef, SourcePos } from './types.ts';

export const EVENT_KEYS = [
  'streamName',
  'topic',
  'subTopic',
  'filter',
  'fields',
  'entityIdField',
  'op',
] as const;
export const FIELD_KEYS = ['name', 'rename', 'type', 'required'] as const;

/** One compiled field with the places later checks point at. */
export interface LocatedField {
  readonly def: FieldDef;
  /** Where the output name comes from: `rename` when given, else `name`. */
  readonly namePos: SourcePos;
  readonly typePos: SourcePos;
}

export interface CompiledEvent {
  readonly binding: EventBinding;
  readonly fields: readonly LocatedField[];
  /** Position of `op`, when written. */
  readonly opPos: SourcePos | undefined;
}

/** Compiles one `events[i]` entry. `action` says whether the feature keeps rows (reserves `timestamp`). */
export function compileEvent(
  node: SpecNode,
  what: string,
  action: boolean,
  reader: SpecReader,
): CompiledEvent | undefined {
  const map = reader.map(node, what);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, EVENT_KEYS, what);

  const streamNode = reader.required(keys.streamName, `${what}.streamName`, map.pos);
  const streamName = reader.string(streamNode, `${what}.streamName`);
  if (streamName !== undefined && streamNode !== undefined && !isValidStreamName(streamName)) {
    reader.issues.add(
      'LARDER_ERR_SPEC_NAME',
      `${what}.streamName "${streamName}" is not a valid stream name: use letters, digits, "_", "." and "-"`,
      streamNode.pos,
    );
  }
  const topic = reader.string(reader.required(keys.topic, `${what}.topic`, map.pos), `${what}.topic`, {
    numbers: true,
  });
  const subTopicNode = keys.subTopic?.value;
  const subTopic =
    subTopicNode === undefined || (subTopicNode.kind === 'scalar' && subTopicNode.value === null)
      ? undefined
      : reader.string(subTopicNode, `${what}.subTopic`, { numbers: true });
  const entityIdNode = keys.entityIdField?.value;
  const entityIdField =
    entityIdNode === undefined || (entityIdNode.kind === 'scalar' && entityIdNode.value === null)
      ? undefined
      : reader.path(entityIdNode, `${what}.entityIdField`);
  const op = reader.oneOf(keys.op, `${what}.op`, ['add', 'remove'] as const) ?? 'add';

  const filter: FilterDef[] = [];
  const filterNode = keys.filter?.value;
  if (filterNode !== undefined && !(filterNode.kind === 'scalar' && filterNode.value === null)) {
    reader.list(filterNode, `${what}.filter`)?.forEach((item, i) => {
      const compiled = compileFilter(item, `${what}.filter[${i}]`, reader);
      if (compiled !== undefined) filter.push(compiled);
    });
  }

  const fields: LocatedField[] = [];
  const fieldsNode = reader.required(keys.fields, `${what}.fields`, map.pos);
  const fieldItems = fieldsNode === undefined ? undefined : reader.list(fieldsNode, `${what}.fields`);
  if (fieldItems !== undefined && fieldItems.length === 0 && fieldsNode !== undefined) {
    reader.issues.add(
      'LARDER_ERR_SPEC_MISSING_KEY',
      `${what}.fields must list at least one field`,
      fieldsNode.pos,
    );
  }
  const seen = new Map<string, SourcePos>();
  fieldItems?.forEach((item, i) => {
    const field = compileField(item, `${what}.fields[${i}]`, action, reader);
    if (field === undefined) return;
    const first = seen.get(field.def.name);
    if (first !== undefined) {
      reader.issues.add(
        'LARDER_ERR_SPEC_DUPLICATE',
        `${what} produces the field "${field.def.name}" twice; first at ${formatPos(first)}`,
        field.namePos,
        'Give one of them another `rename`.',
      );
      return;
    }
    seen.set(field.def.name, field.namePos);
    fields.push(field);
  });

  if (streamName === undefined || topic === undefined) return undefined;
  return {
    binding: {
      streamName,
      topic,
      subTopic,
      filter,
      fields: fields.map((field) => field.def),
      entityIdField,
      op,
      pos: map.pos,
    },
    fields,
    opPos: keys.op?.value.pos,
  };
}

function compileField(
  node: SpecNode,
  what: string,
  action: boolean,
  reader: SpecReader,
): LocatedField | undefined {
  const map = reader.map(node, what);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, FIELD_KEYS, what);
  const nameNode = reader.required(keys.name, `${what}.name`, map.pos);
  const path = reader.path(nameNode, `${what}.name`);
  const renameNode = keys.rename?.value;
  const rename =
    renameNode === undefined || (renameNode.kind === 'scalar' && renameNode.value === null)
      ? undefined
      : reader.string(renameNode, `${what}.rename`);
  const typeNode = reader.required(keys.type, `${what}.type`, map.pos);
  const type = readFieldType(typeNode, `${what}.type`, reader);
  const required = reader.bool(keys.required, `${what}.required`) ?? true;
  if (path === undefined || nameNode === undefined) return undefined;

  const name = rename ?? path.split('.').pop() ?? path;
  const namePos = rename !== undefined && renameNode !== undefined ? renameNode.pos : nameNode.pos;
  if (!isValidName(name) || isObjectPropertyName(name)) {
    const suggestion = isValidName(name) ? `${name}_value` : suggestName(name);
    const hint =
      rename === undefined
        ? `Add \`rename: ${suggestion}\` to give the field a valid output name.`
        : `Change the rename to a valid name, for example ${suggestion}.`;
    reader.name(name, `${what}: output field name`, namePos, hint);
    return undefined;
  }
  if (action && name === 'timestamp') {
    reader.issues.add(
      'LARDER_ERR_SPEC_RESERVED',
      `${what}: "timestamp" is reserved on action rows (it holds the event time)`,
      namePos,
      'Add `rename:` with another name, for example event_timestamp.',
    );
    return undefined;
  }
  if (type === undefined || typeNode === undefined) return undefined;
  return { def: { path, name, type, required }, namePos, typePos: typeNode.pos };
}

/** A valid name close to `name`, for hints. */
function suggestName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+(?=_)/, '');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}
