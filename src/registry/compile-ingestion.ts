import path from 'node:path';
import { Cron } from 'croner';
import { compileFilter } from './compile-filter.ts';
import type { LocatedField } from './compile-event.ts';
import { findCycle } from './dependency-graph.ts';
import { didYouMean } from './did-you-mean.ts';
import { formatFieldType, readFieldType, sameFieldType } from './field-type.ts';
import type { SpecReader } from './node-reader.ts';
import { formatPos, type SpecEntry, type SpecMap, type SpecNode } from './spec-node.ts';
import type {
  EntityDef,
  FeatureDef,
  FieldDef,
  FilterDef,
  IngestionDef,
  SourceFormat,
  SourcePos,
} from './types.ts';

/**
 * The `ingestions:` block: batch IngestionSpecs. Compiled in two steps around the features:
 *
 * 1. {@link readIngestions} reads each declaration's shape, target and `fields` (before features
 *    are compiled), so that a feature with no `events` can take its fields from the ingestions
 *    that feed it;
 * 2. {@link compileIngestions} checks everything against the compiled features and entities:
 *    the target exists, field types agree with the feature's events, action targets name a
 *    timestampField, cron and time zone parse, `dependsOn` names ingestions and has no cycle.
 *
 * Every problem is recorded with its position; nothing stops at the first.
 */

export const INGESTION_DEFAULTS = {
  parallelism: 'auto',
  retries: 3,
  timeoutMs: 3_600_000,
  maxErrorRate: 0.01,
} as const;

/** The keys of `ingestions.<name>`, exactly as the registry format names them. */
export const INGESTION_KEYS = [
  'source',
  'feature',
  'entityIdField',
  'timestampField',
  'eventIdField',
  'filter',
  'fields',
  'schedule',
  'timezone',
  'dependsOn',
  'parallelism',
  'retries',
  'timeout',
  'maxErrorRate',
] as const;
export const SOURCE_KEYS = ['format', 'path'] as const;
export const SOURCE_FORMATS: readonly SourceFormat[] = ['jsonl', 'csv', 'parquet'];
const FIELD_KEYS = ['name', 'rename', 'type', 'required'] as const;

export interface IngestionContext {
  readonly reader: SpecReader;
  /** The registry directory: relative `source.path`s are resolved against it. */
  readonly registryDir: string;
  readonly entities: ReadonlyMap<string, EntityDef>;
  /** `entity -> feature -> def`, already compiled. */
  readonly features: ReadonlyMap<string, ReadonlyMap<string, FeatureDef>>;
}

/** A compiled ingestion (when valid) and its dependencies, which are checked even when it is not. */
interface Located {
  readonly name: string;
  readonly def: IngestionDef | undefined;
  readonly dependsOn: readonly string[];
  readonly dependsOnPos: readonly SourcePos[];
  readonly pos: SourcePos;
}

type IngestionKeys = Partial<Record<(typeof INGESTION_KEYS)[number], SpecEntry>>;

/** Step 1 of an ingestion: its shape, its target (as written) and its fields, read once. */
export interface IngestionDeclaration {
  readonly entry: SpecEntry;
  readonly map: SpecMap | undefined;
  readonly keys: IngestionKeys;
  /** `<entity>.<feature>` as written, trimmed. */
  readonly target: string | undefined;
  readonly fields: readonly LocatedField[] | undefined;
}

/**
 * Step 1: the named declarations of every `ingestions:` block, each read for its keys, target and
 * fields. A block that is not a map, or a name declared twice, is reported by `mergeExtension`
 * (which gathers the raw block); here such entries are just skipped.
 */
export function readIngestions(blocks: readonly SpecEntry[], reader: SpecReader): IngestionDeclaration[] {
  const out: IngestionDeclaration[] = [];
  const seen = new Set<string>();
  for (const block of blocks) {
    if (block.value.kind !== 'map') continue;
    for (const entry of block.value.entries) {
      if (seen.has(entry.key)) continue;
      seen.add(entry.key);
      out.push(readIngestion(entry, reader));
    }
  }
  return out;
}

function readIngestion(entry: SpecEntry, reader: SpecReader): IngestionDeclaration {
  const what = `ingestions.${entry.key}`;
  reader.name(entry.key, 'ingestion name', entry.keyPos);
  const map = reader.map(entry.value, what);
  if (map === undefined) return { entry, map, keys: {}, target: undefined, fields: undefined };
  const keys = reader.keys(map, INGESTION_KEYS, what);
  const featureNode = present(keys.feature);
  const target =
    featureNode?.kind === 'scalar' && typeof featureNode.value === 'string'
      ? featureNode.value.trim()
      : undefined;
  return { entry, map, keys, target, fields: readFields(keys.fields, what, map.pos, reader) };
}

/**
 * For the feature compiler: the fields each ingestion targeting `entity.feature` produces. A
 * feature without `events` takes its value or row type from them.
 */
export function ingestedFields(
  declarations: readonly IngestionDeclaration[],
): (entity: string, feature: string) => (readonly LocatedField[])[] {
  return (entity, feature) =>
    declarations
      .filter((d) => d.target === `${entity}.${feature}` && d.fields !== undefined)
      .map((d) => d.fields ?? []);
}

/**
 * Step 2: compiles every ingestion against the compiled features, recording each problem with
 * its position; then checks `dependsOn` references and cycles across all of them. Returns the
 * valid ones, by name.
 */
export function compileIngestions(
  declarations: readonly IngestionDeclaration[],
  context: IngestionContext,
): Map<string, IngestionDef> {
  const located: Located[] = [];
  for (const decl of declarations) {
    const compiled = compileIngestion(decl, context);
    if (compiled !== undefined) located.push(compiled);
  }
  const byName = new Map(located.map((l) => [l.name, l]));
  const names = declarations.map((d) => d.entry.key);
  for (const { name, dependsOn, dependsOnPos, pos } of located) {
    dependsOn.forEach((dep, i) => {
      const at = dependsOnPos[i] ?? pos;
      if (dep === name) {
        context.reader.issues.add('LARDER_ERR_SPEC_CYCLE', `ingestion "${name}" depends on itself`, at);
      } else if (!names.includes(dep)) {
        context.reader.issues.add(
          'LARDER_ERR_SPEC_REFERENCE',
          `ingestions.${name}.dependsOn names "${dep}", which is not an ingestion`,
          at,
          `Name a declared ingestion.${didYouMean(dep, names)}`,
        );
      }
    });
  }
  const graph = new Map(located.map((l) => [l.name, l.dependsOn.filter((d) => d !== l.name)]));
  const cycle = findCycle(graph);
  if (cycle !== undefined) {
    const first = byName.get(cycle[0] as string);
    const at = first?.dependsOnPos[first.dependsOn.indexOf(cycle[1] as string)] ?? first?.pos;
    context.reader.issues.add(
      'LARDER_ERR_SPEC_CYCLE',
      `ingestions depend on each other in a cycle: ${cycle.join(' -> ')}`,
      at ?? { file: '.', line: 1, column: 1 },
      `Remove one dependsOn edge of the cycle ${cycle.join(' -> ')}.`,
    );
  }
  const out = new Map<string, IngestionDef>();
  for (const l of located) if (l.def !== undefined) out.set(l.name, l.def);
  return out;
}

function present(entry: SpecEntry | undefined): SpecNode | undefined {
  if (entry === undefined) return undefined;
  if (entry.value.kind === 'scalar' && entry.value.value === null) return undefined;
  return entry.value;
}

function compileIngestion(decl: IngestionDeclaration, context: IngestionContext): Located | undefined {
  const { reader } = context;
  const { map, keys } = decl;
  const name = decl.entry.key;
  const what = `ingestions.${name}`;
  const before = reader.issues.count;
  if (map === undefined) return undefined;

  const source = compileSource(keys.source, what, map.pos, context);
  const target = resolveFeature(keys.feature, what, map.pos, context);
  const entity = target === undefined ? undefined : context.entities.get(target.entity);
  const entityIdField =
    reader.path(present(keys.entityIdField), `${what}.entityIdField`) ?? entity?.idField ?? 'id';
  const timestampField = reader.path(present(keys.timestampField), `${what}.timestampField`);
  const eventIdField = reader.path(present(keys.eventIdField), `${what}.eventIdField`);
  if (target?.featureType === 'action' && timestampField === undefined) {
    reader.issues.add(
      'LARDER_ERR_SPEC_MISSING_KEY',
      `${what} feeds the action feature ${target.entity}.${target.name}, whose rows are ordered by time: timestampField is required`,
      keys.timestampField?.keyPos ?? map.pos,
      'Add `timestampField:` naming the column that holds each row time.',
    );
  }

  const filter: FilterDef[] = [];
  const filterNode = present(keys.filter);
  if (filterNode !== undefined) {
    reader.list(filterNode, `${what}.filter`)?.forEach((item, i) => {
      const compiled = compileFilter(item, `${what}.filter[${i}]`, reader);
      if (compiled !== undefined) filter.push(compiled);
    });
  }
  const fields = checkFields(decl.fields, keys.fields, what, target, reader);

  const schedule = compileSchedule(keys.schedule, keys.timezone, what, reader);
  const timezone = compileTimezone(keys.timezone, what, reader);
  const dependsOn = reader.stringList(keys.dependsOn, `${what}.dependsOn`) ?? [];
  const dependsOnNode = present(keys.dependsOn);
  const dependsOnPos = dependsOnNode?.kind === 'seq' ? dependsOnNode.items.map((item) => item.pos) : [];
  const parallelism = compileParallelism(keys.parallelism, what, reader);
  const retries = reader.int(keys.retries, `${what}.retries`, 0) ?? INGESTION_DEFAULTS.retries;
  const timeoutMs = reader.duration(keys.timeout, `${what}.timeout`) ?? INGESTION_DEFAULTS.timeoutMs;
  const maxErrorRate =
    reader.number(keys.maxErrorRate, `${what}.maxErrorRate`, 0, 1) ?? INGESTION_DEFAULTS.maxErrorRate;

  const located = { name, dependsOn, dependsOnPos, pos: decl.entry.keyPos };
  if (reader.issues.count > before || source === undefined || target === undefined || fields === undefined) {
    return { ...located, def: undefined };
  }
  const def: IngestionDef = {
    name,
    source,
    entity: target.entity,
    feature: target.name,
    entityIdField,
    timestampField,
    eventIdField,
    filter,
    fields,
    schedule,
    timezone,
    dependsOn,
    parallelism,
    retries,
    timeoutMs,
    maxErrorRate,
    pos: decl.entry.keyPos,
  };
  return { ...located, def };
}

function compileSource(
  entry: SpecEntry | undefined,
  what: string,
  at: SourcePos,
  context: IngestionContext,
): IngestionDef['source'] | undefined {
  const { reader } = context;
  const node = reader.required(entry, `${what}.source`, at);
  const map: SpecMap | undefined = node === undefined ? undefined : reader.map(node, `${what}.source`);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, SOURCE_KEYS, `${what}.source`);
  reader.required(keys.format, `${what}.source.format`, map.pos);
  const format = reader.oneOf(keys.format, `${what}.source.format`, SOURCE_FORMATS);
  const rawPath = reader.string(
    reader.required(keys.path, `${what}.source.path`, map.pos),
    `${what}.source.path`,
  );
  if (format === undefined || rawPath === undefined) return undefined;
  if (rawPath.startsWith('s3://')) {
    const withoutScheme = rawPath.slice('s3://'.length);
    if (withoutScheme === '' || withoutScheme.startsWith('/')) {
      reader.issues.add(
        'LARDER_ERR_SPEC_INVALID_VALUE',
        `${what}.source.path "${rawPath}" must name a bucket: s3://bucket/prefix/*.${format}`,
        keys.path?.value.pos ?? map.pos,
      );
      return undefined;
    }
    return { format, path: rawPath };
  }
  return { format, path: path.resolve(context.registryDir, rawPath) };
}

function resolveFeature(
  entry: SpecEntry | undefined,
  what: string,
  at: SourcePos,
  context: IngestionContext,
): FeatureDef | undefined {
  const { reader } = context;
  const node = reader.required(entry, `${what}.feature`, at);
  const text = reader.string(node, `${what}.feature`);
  if (text === undefined || node === undefined) return undefined;
  const [entity, feature, ...rest] = text.trim().split('.');
  const all = [...context.features].flatMap(([e, group]) => [...group.keys()].map((f) => `${e}.${f}`));
  const found =
    rest.length === 0 && feature !== undefined ? context.features.get(entity ?? '')?.get(feature) : undefined;
  if (found === undefined) {
    reader.issues.add(
      'LARDER_ERR_SPEC_REFERENCE',
      `${what}.feature "${text}" is not a declared feature; write <entity>.<feature>`,
      node.pos,
      `Name a feature declared under features.<entity>.${didYouMean(text, all)}`,
    );
  }
  return found;
}

/** Step 1: the `fields` list, each with its output name and type (checks needing the target wait). */
function readFields(
  entry: SpecEntry | undefined,
  what: string,
  at: SourcePos,
  reader: SpecReader,
): LocatedField[] | undefined {
  const node = reader.required(entry, `${what}.fields`, at);
  const items = node === undefined ? undefined : reader.list(node, `${what}.fields`);
  if (items === undefined || node === undefined) return undefined;
  if (items.length === 0) {
    reader.issues.add('LARDER_ERR_SPEC_MISSING_KEY', `${what}.fields must list at least one field`, node.pos);
    return undefined;
  }
  const out: LocatedField[] = [];
  const seen = new Map<string, SourcePos>();
  items.forEach((item, i) => {
    const itemWhat = `${what}.fields[${i}]`;
    const map = reader.map(item, itemWhat);
    if (map === undefined) return;
    const keys = reader.keys(map, FIELD_KEYS, itemWhat);
    const nameNode = reader.required(keys.name, `${itemWhat}.name`, map.pos);
    const fieldPath = reader.path(nameNode, `${itemWhat}.name`);
    const renameNode = present(keys.rename);
    const rename = renameNode === undefined ? undefined : reader.string(renameNode, `${itemWhat}.rename`);
    const typeNode = reader.required(keys.type, `${itemWhat}.type`, map.pos);
    const type = readFieldType(typeNode, `${itemWhat}.type`, reader);
    const required = reader.bool(keys.required, `${itemWhat}.required`) ?? true;
    if (fieldPath === undefined || nameNode === undefined || type === undefined || typeNode === undefined)
      return;
    const name = rename ?? fieldPath.split('.').pop() ?? fieldPath;
    const namePos = renameNode?.pos ?? nameNode.pos;
    if (!reader.name(name, `${itemWhat}: output field name`, namePos, 'Add `rename:` with a valid name.')) {
      return;
    }
    const first = seen.get(name);
    if (first !== undefined) {
      reader.issues.add(
        'LARDER_ERR_SPEC_DUPLICATE',
        `${what} produces the field "${name}" twice; first at ${formatPos(first)}`,
        namePos,
        'Give one of them another `rename`.',
      );
      return;
    }
    seen.set(name, namePos);
    out.push({ def: { path: fieldPath, name, type, required }, namePos, typePos: typeNode.pos });
  });
  return out;
}

/** Step 2: the fields against the target feature (types, reserved names, the map key). */
function checkFields(
  fields: readonly LocatedField[] | undefined,
  entry: SpecEntry | undefined,
  what: string,
  target: FeatureDef | undefined,
  reader: SpecReader,
): FieldDef[] | undefined {
  if (fields === undefined) return undefined;
  const featureFields = new Map((target?.fields ?? []).map((f) => [f.name, f.type]));
  const fedByEvents = (target?.events.length ?? 0) > 0;
  const out: FieldDef[] = [];
  let ok = true;
  for (const { def, namePos, typePos } of fields) {
    if (target?.featureType === 'action' && def.name === 'timestamp') {
      reader.issues.add(
        'LARDER_ERR_SPEC_RESERVED',
        `${what}: "timestamp" is reserved on action rows (it holds the row time)`,
        namePos,
        'Add `rename:` with another name; the row time comes from timestampField.',
      );
      ok = false;
      continue;
    }
    const declared = featureFields.get(def.name);
    if (declared !== undefined && !sameFieldType(declared, def.type)) {
      reader.issues.add(
        'LARDER_ERR_SPEC_FIELD_CONFLICT',
        `${what}: field "${def.name}" is ${formatFieldType(def.type)} here but ${formatFieldType(declared)} in ${target?.entity}.${target?.name}`,
        typePos,
        `Use type ${formatFieldType(declared)}, as the feature does.`,
      );
      ok = false;
      continue;
    }
    if (declared === undefined && fedByEvents && target !== undefined) {
      reader.issues.add(
        'LARDER_ERR_SPEC_FIELD_CONFLICT',
        `${what}: ${target.entity}.${target.name} has no field "${def.name}"; its events produce ${[...featureFields.keys()].join(', ')}`,
        namePos,
        `Rename the field to one the feature has.${didYouMean(def.name, featureFields.keys())}`,
      );
      ok = false;
      continue;
    }
    out.push(def);
  }
  if (
    ok &&
    target?.containerType === 'map' &&
    target.mapKey !== undefined &&
    !out.some((f) => f.name === target.mapKey)
  ) {
    reader.issues.add(
      'LARDER_ERR_SPEC_CONTAINER',
      `${what} feeds the map feature ${target.entity}.${target.name}, but produces no "${target.mapKey}" (its mapKey)`,
      entry?.value.pos ?? entry?.keyPos ?? target.pos,
      `Add a field renamed to ${target.mapKey}.`,
    );
  }
  return out;
}

function compileSchedule(
  entry: SpecEntry | undefined,
  timezoneEntry: SpecEntry | undefined,
  what: string,
  reader: SpecReader,
): string | undefined {
  const node = present(entry);
  const text = reader.string(node, `${what}.schedule`);
  if (text === undefined || node === undefined) return undefined;
  try {
    // A paused job only parses the pattern; it never fires. The time zone is checked on its own.
    const tz = present(timezoneEntry);
    const timezone =
      tz?.kind === 'scalar' && typeof tz.value === 'string' && isTimeZone(tz.value) ? tz.value : undefined;
    new Cron(text, { paused: true, ...(timezone === undefined ? {} : { timezone }) }).stop();
    return text;
  } catch (err) {
    reader.issues.add(
      'LARDER_ERR_SPEC_CRON',
      `${what}.schedule "${text}" is not a cron expression: ${(err as Error).message}`,
      node.pos,
    );
    return undefined;
  }
}

function compileTimezone(entry: SpecEntry | undefined, what: string, reader: SpecReader): string | undefined {
  const node = present(entry);
  const text = reader.string(node, `${what}.timezone`);
  if (text === undefined || node === undefined) return undefined;
  if (isTimeZone(text)) return text;
  reader.issues.add(
    'LARDER_ERR_SPEC_INVALID_VALUE',
    `${what}.timezone "${text}" is not an IANA time zone`,
    node.pos,
    'Use an IANA name such as Asia/Seoul, Europe/Berlin or UTC.',
  );
  return undefined;
}

function isTimeZone(text: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: text });
    return true;
  } catch {
    return false;
  }
}

function compileParallelism(entry: SpecEntry | undefined, what: string, reader: SpecReader): 'auto' | number {
  const node = present(entry);
  if (node === undefined) return 'auto';
  if (node.kind === 'scalar' && node.value === 'auto') return 'auto';
  if (node.kind === 'scalar' && Number.isSafeInteger(node.value) && (node.value as number) >= 1) {
    return node.value as number;
  }
  reader.issues.add(
    'LARDER_ERR_SPEC_INVALID_VALUE',
    `${what}.parallelism must be auto or a whole number ≥ 1, found ${JSON.stringify(node.kind === 'scalar' ? node.value : node.kind)}`,
    node.pos,
    'Write `parallelism: auto` (sized from the data) or a number of workers.',
  );
  return 'auto';
}
