import type {
  EnricherDef,
  EntityDef,
  EventBinding,
  FeatureDef,
  FieldDef,
  FieldType,
  FilterDef,
  IngestionDef,
  JoinDef,
  OnDemandDef,
  Registry,
  StreamDef,
} from '../../src/registry/types.ts';

/**
 * Builds compiled Registry objects directly, for tests that must not depend on the YAML loader.
 * Every helper fills the defaults the loader documents (docs/spec.md); field types are written as
 * in YAML: `int`, `list<string>`, ...
 */

const POS = { file: 'test.yaml', line: 1, column: 1 } as const;

export function fieldType(spelling: string): FieldType {
  const vector = /^vector\((\d+)\)$/.exec(spelling);
  if (vector !== null) return { scalar: 'float', list: true, vector: Number(vector[1]) };
  const match = /^list<(\w+)>$/.exec(spelling);
  const scalar = (match?.[1] ?? spelling) as FieldType['scalar'];
  return { scalar, list: match !== null };
}

/** `fields[]` of an event binding: the dotted `path` in the event, stored as its last segment or `rename`. */
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

/** One `events[]` entry of a feature. */
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
    pos: POS,
  };
}

export interface FeatureOptions {
  readonly featureType?: FeatureDef['featureType'];
  readonly containerType?: FeatureDef['containerType'];
  readonly mapKey?: string;
  readonly maxCount?: number;
  readonly ttlMs?: number;
  readonly description?: string;
  readonly cache?: FeatureDef['cache'];
  readonly joins?: readonly JoinDef[];
  /** The events feeding it (see `binding`). */
  readonly events?: readonly EventBinding[];
  /** Output field name -> type; by default the union of the events' fields, in first-seen order. */
  readonly fields?: Readonly<Record<string, string>>;
}

export function feature(entity: string, name: string, options: FeatureOptions = {}): FeatureDef {
  const events = options.events ?? [];
  const fields = new Map<string, FieldType>();
  if (options.fields !== undefined) {
    for (const [fieldName, type] of Object.entries(options.fields)) fields.set(fieldName, fieldType(type));
  } else {
    for (const b of events) for (const f of b.fields) if (!fields.has(f.name)) fields.set(f.name, f.type);
  }
  return {
    entity,
    name,
    featureType: options.featureType ?? 'static',
    containerType: options.containerType ?? 'single',
    mapKey: options.mapKey,
    events,
    fields: [...fields].map(([fieldName, type]) => ({ name: fieldName, type })),
    maxCount: options.maxCount ?? 100,
    ttlMs: options.ttlMs,
    description: options.description,
    owner: undefined,
    tags: [],
    cache: options.cache,
    joins: options.joins ?? [],
    pos: POS,
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

/**
 * A compiled registry. As the loader does, entities that features name but `entities` leaves out
 * are implied with every default, and streams that bindings name but `streams` leaves out too.
 */
export function registry(parts: {
  readonly entities?: readonly EntityDef[];
  readonly streams?: readonly StreamDef[];
  readonly features: readonly FeatureDef[];
  readonly ingestions?: readonly IngestionDef[];
  readonly onDemand?: readonly OnDemandDef[];
  readonly enrichers?: readonly EnricherDef[];
  readonly version?: string;
}): Registry {
  const entities = new Map((parts.entities ?? []).map((e) => [e.name, e]));
  for (const f of parts.features) {
    if (!entities.has(f.entity)) entities.set(f.entity, entity(f.entity, { declared: false }));
  }
  const streams = new Map((parts.streams ?? []).map((s) => [s.name, s]));
  for (const f of parts.features) {
    for (const b of f.events) {
      if (!streams.has(b.streamName)) streams.set(b.streamName, stream(b.streamName, { declared: false }));
    }
  }
  const featuresByEntity = new Map<string, Map<string, FeatureDef>>();
  for (const f of parts.features) {
    let byName = featuresByEntity.get(f.entity);
    if (byName === undefined) featuresByEntity.set(f.entity, (byName = new Map()));
    byName.set(f.name, f);
  }
  return {
    version: parts.version ?? `test-${Math.random().toString(36).slice(2, 10)}`,
    dir: '/nonexistent',
    entities,
    streams,
    features: parts.features,
    featuresByEntity,
    extensions: {},
    ingestions: new Map((parts.ingestions ?? []).map((i) => [i.name, i])),
    onDemand: parts.onDemand ?? [],
    enrichers: new Map((parts.enrichers ?? []).map((e) => [e.name, e])),
    warnings: [],
  };
}
