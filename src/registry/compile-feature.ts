import { compileCache } from './compile-cache.ts';
import { compileEvent, type CompiledEvent, type LocatedField } from './compile-event.ts';
import { compileJoins } from './compile-join.ts';
import { formatFieldType, sameFieldType } from './field-type.ts';
import type { FeatureDeclaration } from './merge-documents.ts';
import type { SpecReader } from './node-reader.ts';
import { formatPos, type SpecEntry } from './spec-node.ts';
import type { FeatureDef } from './types.ts';

export const FEATURE_KEYS = [
  'featureType',
  'containerType',
  'events',
  'maxCount',
  'ttl',
  'description',
  'owner',
  'tags',
  'mapKey',
  'cache',
  'join',
] as const;

const DEFAULT_MAX_COUNT = 100;

export interface FeatureContext {
  readonly reader: SpecReader;
  /** Every entity of the registry, declared or implied: join targets. */
  readonly entities: ReadonlySet<string>;
  /**
   * Whether this feature may have no events, because something else (a batch ingestion) feeds
   * it. Stream-fed features always need one; the ingestions compiler can widen this.
   */
  readonly mayHaveNoEvents: (entity: string, feature: string) => boolean;
  /**
   * The fields of the batch ingestions that feed this feature. A feature without `events` takes
   * its value or row type from them.
   */
  readonly ingestedFields?: (entity: string, feature: string) => (readonly LocatedField[])[];
}

/** Compiles `features.<entity>.<name>`; undefined when it has errors (they are recorded). */
export function compileFeature(decl: FeatureDeclaration, context: FeatureContext): FeatureDef | undefined {
  const { reader } = context;
  const what = `features.${decl.entity}.${decl.name}`;
  const before = reader.issues.count;
  if (reader.name(decl.name, 'feature name', decl.keyPos) && decl.name === 'id') {
    reader.issues.add(
      'LARDER_ERR_SPEC_RESERVED',
      `${what}: "id" is reserved as a feature name (it is the entity's id field in GraphQL)`,
      decl.keyPos,
      'Rename the feature.',
    );
  }
  const map = reader.map(decl.value, what);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, FEATURE_KEYS, what);

  const featureType =
    reader.oneOf(keys.featureType, `${what}.featureType`, ['static', 'action'] as const) ?? 'static';
  const action = featureType === 'action';
  let containerType = reader.oneOf(keys.containerType, `${what}.containerType`, [
    'single',
    'set',
    'map',
  ] as const);
  if (
    action &&
    containerType !== undefined &&
    containerType !== 'single' &&
    keys.containerType !== undefined
  ) {
    reader.issues.add(
      'LARDER_ERR_SPEC_CONTAINER',
      `${what}.containerType ${containerType} applies to static features only; action features keep rows`,
      keys.containerType.value.pos,
      'Remove containerType, or make the feature `featureType: static`.',
    );
    containerType = 'single';
  }
  containerType ??= 'single';

  const events: CompiledEvent[] = [];
  const eventsNode = keys.events?.value;
  const eventsAbsent =
    eventsNode === undefined || (eventsNode.kind === 'scalar' && eventsNode.value === null);
  const eventItems = eventsAbsent ? [] : (reader.list(eventsNode, `${what}.events`) ?? []);
  eventItems.forEach((item, i) => {
    const compiled = compileEvent(item, `${what}.events[${i}]`, action, reader);
    if (compiled !== undefined) events.push(compiled);
  });
  // Only when `events` is absent or empty: a wrong-typed `events` has had its own issue.
  const eventsUsable = eventsAbsent || eventsNode.kind === 'seq';
  if (eventsUsable && eventItems.length === 0 && !context.mayHaveNoEvents(decl.entity, decl.name)) {
    reader.issues.add(
      'LARDER_ERR_SPEC_MISSING_KEY',
      `${what} needs at least one entry under events: nothing would feed it`,
      keys.events?.keyPos ?? decl.keyPos,
      'Add `events:` with a streamName, topic and fields.',
    );
  }

  const fieldSources =
    events.length > 0
      ? events.map((event) => event.fields)
      : (context.ingestedFields?.(decl.entity, decl.name) ?? []);
  const fields = unionFields(fieldSources, what, reader);
  const mapKey = checkContainer(decl, what, containerType, events, fields, keys, reader);

  const ttlMs = reader.duration(keys.ttl, `${what}.ttl`);
  const feature: FeatureDef = {
    entity: decl.entity,
    name: decl.name,
    featureType,
    containerType,
    mapKey,
    events: events.map((event) => event.binding),
    fields: [...fields.values()].map((field) => ({ name: field.def.name, type: field.def.type })),
    maxCount: reader.int(keys.maxCount, `${what}.maxCount`, 1) ?? DEFAULT_MAX_COUNT,
    ttlMs,
    description: reader.optionalString(keys.description, `${what}.description`),
    owner: reader.optionalString(keys.owner, `${what}.owner`),
    tags: reader.stringList(keys.tags, `${what}.tags`) ?? [],
    cache: compileCache(keys.cache, `${what}.cache`, reader),
    joins: compileJoins(keys.join, `${what}.join`, { action, fields, entities: context.entities }, reader),
    pos: decl.keyPos,
  };
  return reader.issues.count === before ? feature : undefined;
}

/** The union of all events' output fields, first seen first; one name must keep one type. */
function unionFields(
  sources: readonly (readonly LocatedField[])[],
  what: string,
  reader: SpecReader,
): Map<string, LocatedField> {
  const fields = new Map<string, LocatedField>();
  for (const source of sources) {
    for (const field of source) {
      const first = fields.get(field.def.name);
      if (first === undefined) {
        fields.set(field.def.name, field);
      } else if (!sameFieldType(first.def.type, field.def.type)) {
        reader.issues.add(
          'LARDER_ERR_SPEC_FIELD_CONFLICT',
          `${what}: field "${field.def.name}" is ${formatFieldType(field.def.type)} here but ${formatFieldType(first.def.type)} at ${formatPos(first.typePos)}`,
          field.typePos,
          `Give "${field.def.name}" one type in every event (or ingestion) of the feature.`,
        );
      }
    }
  }
  return fields;
}

/** Container rules: `op: remove` needs a set or map; a map needs `mapKey` naming a field, plus a value. */
function checkContainer(
  decl: FeatureDeclaration,
  what: string,
  containerType: 'single' | 'set' | 'map',
  events: readonly CompiledEvent[],
  fields: ReadonlyMap<string, LocatedField>,
  keys: Partial<Record<(typeof FEATURE_KEYS)[number], SpecEntry>>,
  reader: SpecReader,
): string | undefined {
  const collection = containerType !== 'single';
  for (const event of events) {
    if (event.binding.op === 'remove' && !collection && event.opPos !== undefined) {
      reader.issues.add(
        'LARDER_ERR_SPEC_CONTAINER',
        `${what}: op: remove applies to static set or map features only; this feature is ${containerType === 'single' ? 'single' : containerType}`,
        event.opPos,
        'Remove `op`, or make the feature `containerType: set` or `map`.',
      );
    }
  }

  const mapKeyEntry = keys.mapKey;
  const mapKey = reader.optionalString(mapKeyEntry, `${what}.mapKey`);
  if (containerType !== 'map') {
    if (mapKey !== undefined && mapKeyEntry !== undefined) {
      reader.issues.add(
        'LARDER_ERR_SPEC_CONTAINER',
        `${what}.mapKey applies to containerType map only`,
        mapKeyEntry.keyPos,
        'Remove mapKey, or set `containerType: map`.',
      );
    }
    return undefined;
  }
  if (mapKey === undefined || mapKeyEntry === undefined) {
    reader.issues.add(
      'LARDER_ERR_SPEC_CONTAINER',
      `${what}: containerType map needs mapKey, the output field that holds each entry's key`,
      keys.containerType?.value.pos ?? decl.keyPos,
      `Add \`mapKey:\` naming one of the fields: ${[...fields.keys()].join(', ')}.`,
    );
    return undefined;
  }
  const keyField = fields.get(mapKey);
  if (keyField === undefined) {
    reader.issues.add(
      'LARDER_ERR_SPEC_CONTAINER',
      `${what}.mapKey "${mapKey}" is not one of the feature's fields (${[...fields.keys()].join(', ')})`,
      mapKeyEntry.value.pos,
    );
    return undefined;
  }
  if (keyField.def.type.list || keyField.def.type.scalar === 'json') {
    reader.issues.add(
      'LARDER_ERR_SPEC_CONTAINER',
      `${what}.mapKey "${mapKey}" has type ${formatFieldType(keyField.def.type)}; a map key must be a scalar int, float, string or bool`,
      mapKeyEntry.value.pos,
    );
  }
  if (fields.size < 2) {
    reader.issues.add(
      'LARDER_ERR_SPEC_CONTAINER',
      `${what}: a map feature needs a value field besides its key "${mapKey}"`,
      mapKeyEntry.value.pos,
      'Add a field to the events that holds the value stored under each key.',
    );
  }
  for (const event of events) {
    if (!event.binding.fields.some((field) => field.name === mapKey)) {
      reader.issues.add(
        'LARDER_ERR_SPEC_CONTAINER',
        `${what}: every event of a map feature must produce the key field "${mapKey}"`,
        event.binding.pos,
        `Add a field renamed to ${mapKey} to this event.`,
      );
    }
  }
  return mapKey;
}
