import { didYouMean } from './did-you-mean.ts';
import { substituteEnv } from './env-substitution.ts';
import type { Declaration } from './merge-documents.ts';
import type { SpecReader } from './node-reader.ts';
import { positionAt, type SpecEntry } from './spec-node.ts';
import { checkStreamOptions } from './stream-options.ts';
import type { StreamDef, StreamSourceKind } from './types.ts';

export const STREAM_KEYS = [
  'source',
  'connection',
  'group',
  'payloadField',
  'subTopicField',
  'entityIdField',
  'timestampField',
  'eventIdField',
  'options',
] as const;

export const STREAM_SOURCES: readonly StreamSourceKind[] = ['http', 'redis', 'nats', 'kinesis', 'kafka'];

/** Stream names appear in URLs and broker topic names: letters, digits, `_`, `.` and `-`. */
const STREAM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export function isValidStreamName(name: string): boolean {
  return STREAM_NAME.test(name);
}

/**
 * Where the sub-topic is when a stream does not say: a top-level `subTopic` field, mirroring the spec
 * key. Without a default, the seed layout (which declares no streams) could never route by subTopic.
 */
export const DEFAULT_SUB_TOPIC_FIELD = 'subTopic';

/** A stream with every default: used for streams that features read but nobody declared. */
export function defaultStream(name: string, declared: boolean): StreamDef {
  return {
    name,
    source: 'http',
    connection: {},
    group: 'larder',
    payloadField: 'data',
    subTopicField: DEFAULT_SUB_TOPIC_FIELD,
    entityIdField: undefined,
    timestampField: undefined,
    eventIdField: undefined,
    options: {},
    declared,
  };
}

/** Compiles `streams.<name>`, substituting `${VAR}` in `connection` and `options` from `env`. */
export function compileStream(
  decl: Declaration,
  reader: SpecReader,
  env: Readonly<Record<string, string | undefined>>,
): StreamDef {
  const what = `streams.${decl.name}`;
  if (!isValidStreamName(decl.name)) {
    reader.issues.add(
      'LARDER_ERR_SPEC_NAME',
      `stream name "${decl.name}" is not valid: use letters, digits, "_", "." and "-", not starting with "." or "-"`,
      decl.keyPos,
      'Rename the stream, for example client_event.',
    );
  }
  const base = defaultStream(decl.name, true);
  const map = reader.map(decl.value, what);
  if (map === undefined) return base;
  const keys = reader.keys(map, STREAM_KEYS, what);

  const freeForm = (entry: SpecEntry | undefined, key: string): Record<string, unknown> => {
    if (entry === undefined) return {};
    const node = reader.map(entry.value, `${what}.${key}`);
    if (node === undefined) return {};
    return substituteEnv(node, env, reader.issues, `${what}.${key}`) as Record<string, unknown>;
  };
  const optionalPath = (entry: SpecEntry | undefined, key: string): string | undefined => {
    const node = entry?.value;
    if (node === undefined || (node.kind === 'scalar' && node.value === null)) return undefined;
    return reader.path(node, `${what}.${key}`);
  };

  const source = reader.oneOf(keys.source, `${what}.source`, STREAM_SOURCES);
  const before = reader.issues.count;
  const options = freeForm(keys.options, 'options');
  // Options whose substitution failed are already reported; checking them would say it again.
  const optionsRead = reader.issues.count === before;
  const def: StreamDef = {
    ...base,
    source: source ?? base.source,
    connection: freeForm(keys.connection, 'connection'),
    group: reader.optionalString(keys.group, `${what}.group`) ?? base.group,
    payloadField: reader.optionalString(keys.payloadField, `${what}.payloadField`) ?? base.payloadField,
    subTopicField: optionalPath(keys.subTopicField, 'subTopicField') ?? base.subTopicField,
    entityIdField: optionalPath(keys.entityIdField, 'entityIdField'),
    timestampField: optionalPath(keys.timestampField, 'timestampField'),
    eventIdField: optionalPath(keys.eventIdField, 'eventIdField'),
    options,
  };
  const node = keys.options?.value;
  if (node !== undefined && optionsRead && (source !== undefined || keys.source === undefined)) {
    checkStreamOptions(
      def,
      (key, error) => reader.issues.add(error.code, error.message, positionAt(node, key)),
      (key, known) =>
        reader.issues.warn(
          'LARDER_ERR_SPEC_UNKNOWN_KEY',
          known.length === 0
            ? `${what}.options.${key} is not read: ${def.source} streams take no options`
            : `${what}.options.${key} is not an option of ${def.source} streams; it is not read`,
          positionAt(node, key, 'key'),
          known.length === 0
            ? 'Remove the option.'
            : `Remove it or fix its spelling (docs/streams.md lists the options).${didYouMean(key, known)}`,
        ),
    );
  }
  return def;
}
