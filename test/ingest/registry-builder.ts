import type {
  EntityDef,
  EventBinding,
  FeatureDef,
  FieldDef,
  FieldType,
  FilterDef,
  Registry,
  StreamDef,
} from '../../src/registry/types.ts';

/**
 * Builds compiled Registry objects directly, for ingestion tests that must not depend on the YAML
 * loader. Every helper fills the documented defaults.
 */

export function fieldType(spelling: string): FieldType {
  const match = /^list<(\w+)>$/.exec(spelling);
  const scalar = (match?.[1] ?? spelling) as FieldType['scalar'];
  return { scalar, list: match !== null };
}

export function field(
  path: string,
  type: string,
  options: { rename?: string; required?: boolean } = {},
): FieldDef {
  return {
    path,
    name: options.rename ?? path.split('.').at(-1) ?? path,
    type: fieldType(type),
    required: options.required ?? true,
  };
}

export function filter(
  name: string,
  type: string,
  optype: FilterDef['optype'],
  values: unknown[] = [],
): FilterDef {
  return { name, type: fieldType(type), optype, values };
}

export function binding(
  streamName: string,
  topic: string,
  options: Partial<Omit<EventBinding, 'streamName' | 'topic' | 'pos'>> = {},
): EventBinding {
  return {
    streamName,
    topic,
    subTopic: options.subTopic,
    filter: options.filter ?? [],
    fields: options.fields ?? [],
    entityIdField: options.entityIdField,
    op: options.op ?? 'add',
    pos: { file: 'test.yaml', line: 1, column: 1 },
  };
}

export function feature(
  entity: string,
  name: string,
  options: Partial<Omit<FeatureDef, 'entity' | 'name' | 'fields' | 'pos'>> & { events: EventBinding[] },
): FeatureDef {
  const fields = new Map<string, FieldType>();
  for (const b of options.events)
    for (const f of b.fields) if (!fields.has(f.name)) fields.set(f.name, f.type);
  return {
    entity,
    name,
    featureType: options.featureType ?? 'action',
    containerType: options.containerType ?? 'single',
    mapKey: options.mapKey,
    events: options.events,
    fields: [...fields].map(([n, type]) => ({ name: n, type })),
    maxCount: options.maxCount ?? 100,
    ttlMs: options.ttlMs,
    description: undefined,
    owner: undefined,
    tags: [],
    cache: undefined,
    joins: [],
    pos: { file: 'test.yaml', line: 1, column: 1 },
  };
}

export function entity(name: string, options: Partial<Omit<EntityDef, 'name'>> = {}): EntityDef {
  return {
    name,
    prefix: options.prefix ?? `${name}:`,
    idType: options.idType ?? 'string',
    idField: options.idField ?? `${name}_id`,
    plural: options.plural ?? `${name}s`,
    declared: options.declared ?? true,
  };
}

export function stream(name: string, options: Partial<Omit<StreamDef, 'name'>> = {}): StreamDef {
  return {
    name,
    source: options.source ?? 'http',
    connection: options.connection ?? {},
    group: options.group ?? 'larder',
    payloadField: options.payloadField ?? 'data',
    subTopicField: options.subTopicField ?? 'subTopic',
    entityIdField: options.entityIdField,
    timestampField: options.timestampField,
    eventIdField: options.eventIdField,
    options: options.options ?? {},
    declared: options.declared ?? true,
  };
}

export function registry(parts: {
  entities?: EntityDef[];
  streams?: StreamDef[];
  features: FeatureDef[];
}): Registry {
  const entities = new Map((parts.entities ?? []).map((e) => [e.name, e]));
  for (const f of parts.features) if (!entities.has(f.entity)) entities.set(f.entity, entity(f.entity));
  const featuresByEntity = new Map<string, Map<string, FeatureDef>>();
  for (const f of parts.features) {
    let byName = featuresByEntity.get(f.entity);
    if (byName === undefined) featuresByEntity.set(f.entity, (byName = new Map()));
    byName.set(f.name, f);
  }
  return {
    version: `test-${Math.random().toString(36).slice(2)}`,
    dir: '/nonexistent',
    entities,
    streams: new Map((parts.streams ?? []).map((s) => [s.name, s])),
    features: parts.features,
    featuresByEntity,
    extensions: {},
  };
}
