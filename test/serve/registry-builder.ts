import type {
  EntityDef,
  EventBinding,
  FeatureDef,
  FieldType,
  Registry,
  ScalarType,
  StreamDef,
} from '../../src/registry/types.ts';

/**
 * Builds compiled Registry objects directly, so serving tests do not depend on the YAML loader.
 * Field types are written as in YAML: `int`, `list<string>`, ...
 */

export function fieldType(text: string): FieldType {
  const list = /^list<(\w+)>$/.exec(text);
  return { scalar: (list ? list[1] : text) as ScalarType, list: list !== null };
}

export function entity(name: string, options: Partial<EntityDef> = {}): EntityDef {
  return {
    name,
    prefix: `${name}:`,
    idType: 'string',
    idField: `${name}_id`,
    plural: `${name}s`,
    declared: true,
    ...options,
  };
}

export interface FeatureOptions {
  readonly featureType?: 'static' | 'action';
  readonly containerType?: 'single' | 'set' | 'map';
  readonly mapKey?: string;
  /** Output field name → type text. */
  readonly fields: Readonly<Record<string, string>>;
  readonly maxCount?: number;
  readonly ttlMs?: number;
  readonly description?: string;
  /** Events feeding it; each binding maps `path` (dotted) → output field. */
  readonly events?: readonly BindingOptions[];
}

export interface BindingOptions {
  readonly stream: string;
  readonly topic: string;
  readonly subTopic?: string;
  /** Output field name → dotted path in the event. */
  readonly paths: Readonly<Record<string, string>>;
  readonly op?: 'add' | 'remove';
}

const POS = { file: 'test.yaml', line: 1, column: 1 } as const;

export function feature(entityName: string, name: string, options: FeatureOptions): FeatureDef {
  const fields = Object.entries(options.fields).map(([fieldName, type]) => ({
    name: fieldName,
    type: fieldType(type),
  }));
  const events: EventBinding[] = (options.events ?? []).map((b) => ({
    streamName: b.stream,
    topic: b.topic,
    subTopic: b.subTopic,
    filter: [],
    fields: Object.entries(b.paths).map(([fieldName, path]) => ({
      path,
      name: fieldName,
      type: fieldType(options.fields[fieldName] ?? 'json'),
      required: true,
    })),
    entityIdField: undefined,
    op: b.op ?? 'add',
    pos: POS,
  }));
  return {
    entity: entityName,
    name,
    featureType: options.featureType ?? 'static',
    containerType: options.containerType ?? 'single',
    mapKey: options.mapKey,
    events,
    fields,
    maxCount: options.maxCount ?? 100,
    ttlMs: options.ttlMs,
    description: options.description,
    owner: undefined,
    tags: [],
    cache: undefined,
    joins: [],
    pos: POS,
  };
}

export function stream(name: string, options: Partial<StreamDef> = {}): StreamDef {
  return {
    name,
    source: 'http',
    connection: {},
    group: 'larder',
    payloadField: 'data',
    subTopicField: 'subTopic',
    entityIdField: undefined,
    timestampField: undefined,
    eventIdField: undefined,
    options: {},
    declared: true,
    ...options,
  };
}

export function registry(
  entities: readonly EntityDef[],
  features: readonly FeatureDef[],
  options: { version?: string; streams?: readonly StreamDef[] } = {},
): Registry {
  const featuresByEntity = new Map<string, Map<string, FeatureDef>>();
  for (const e of entities) featuresByEntity.set(e.name, new Map());
  for (const f of features) featuresByEntity.get(f.entity)?.set(f.name, f);
  return {
    version: options.version ?? `v-${Math.random().toString(36).slice(2, 10)}`,
    dir: '/nonexistent',
    entities: new Map(entities.map((e) => [e.name, e])),
    streams: new Map((options.streams ?? []).map((s) => [s.name, s])),
    features,
    featuresByEntity,
    extensions: {},
  };
}
