import { checkValueType } from './check-value-type.ts';
import { formatFieldType, readFieldType } from './field-type.ts';
import type { SpecReader } from './node-reader.ts';
import { toPlainValue, type SpecEntry, type SpecNode } from './spec-node.ts';
import type { FieldType, OnDemandDef, Registry } from './types.ts';

/**
 * Compiles `onDemand.<entity>.<feature>` (see `OnDemandDef` in types.ts and docs/serving.md),
 * read like every other block: each problem is recorded at its file:line:column.
 *
 * `timeout` and `breaker.reset` are durations (`50ms`, `5s`). Their former spellings, `timeoutMs`
 * and `breaker.resetMs` (integers of milliseconds), still work, with a deprecation warning.
 */

export const ON_DEMAND_KEYS = [
  'url',
  'method',
  'timeout',
  'timeoutMs',
  'fallback',
  'type',
  'maxBatch',
  'breaker',
] as const;
const BREAKER_KEYS = ['failures', 'reset', 'resetMs'] as const;
export const DEFAULT_BREAKER = { failures: 5, resetMs: 5_000 } as const;
export const DEFAULT_MAX_BATCH = 100;
const MAX_TIMEOUT_MS = 60_000;
const MAX_BATCH = 10_000;

type OnDemandKeys = Partial<Record<(typeof ON_DEMAND_KEYS)[number], SpecEntry>>;

/**
 * Compiles every `onDemand:` block. A name given twice across blocks, or a block of the wrong
 * kind, is reported by `mergeExtension` (which gathers the raw block); such entries are skipped.
 */
export function compileOnDemand(
  blocks: readonly SpecEntry[],
  registry: Pick<Registry, 'entities' | 'featuresByEntity'>,
  reader: SpecReader,
): OnDemandDef[] {
  const defs: OnDemandDef[] = [];
  const seen = new Set<string>();
  for (const block of blocks) {
    if (block.value.kind === 'seq') {
      reader.issues.add(
        'LARDER_ERR_SPEC_TYPE',
        'onDemand must be a map of entity -> feature -> source, found a list',
        block.value.pos,
      );
    }
    if (block.value.kind !== 'map') continue;
    for (const entityEntry of block.value.entries) {
      if (seen.has(entityEntry.key)) continue;
      seen.add(entityEntry.key);
      const entity = registry.entities.get(entityEntry.key);
      if (entity === undefined) {
        reader.issues.add(
          'LARDER_ERR_SPEC_REFERENCE',
          `onDemand.${entityEntry.key}: "${entityEntry.key}" is not an entity of this registry`,
          entityEntry.keyPos,
        );
        continue;
      }
      const features = reader.map(entityEntry.value, `onDemand.${entity.name}`);
      for (const entry of features?.entries ?? []) {
        const def = compileOne(entity.name, entity.idType, entry, registry, reader);
        if (def !== undefined) defs.push(def);
      }
    }
  }
  return defs;
}

function compileOne(
  entity: string,
  idType: OnDemandDef['idType'],
  entry: SpecEntry,
  registry: Pick<Registry, 'featuresByEntity'>,
  reader: SpecReader,
): OnDemandDef | undefined {
  const name = entry.key;
  const what = `onDemand.${entity}.${name}`;
  const before = reader.issues.count;
  if (reader.name(name, 'on-demand feature name', entry.keyPos) && name === 'id') {
    reader.issues.add(
      'LARDER_ERR_SPEC_NAME',
      `${what}: "id" is the entity's id, not a feature name`,
      entry.keyPos,
    );
  }
  if (registry.featuresByEntity.get(entity)?.has(name) === true) {
    reader.issues.add(
      'LARDER_ERR_SPEC_DUPLICATE',
      `${what}: ${entity}.${name} is already a stored feature`,
      entry.keyPos,
    );
  }
  const map = reader.map(entry.value, what);
  if (map === undefined) return undefined;
  const keys: OnDemandKeys = reader.keys(map, ON_DEMAND_KEYS, what);

  const url = readUrl(keys, what, entry, reader);
  const method = readMethod(keys, what, reader);
  const timeoutMs = readMs(keys.timeout, keys.timeoutMs, `${what}.timeout`, reader, MAX_TIMEOUT_MS);
  if (timeoutMs === undefined && keys.timeout === undefined && keys.timeoutMs === undefined) {
    reader.issues.add(
      'LARDER_ERR_SPEC_MISSING_KEY',
      `${what}.timeout is required`,
      entry.keyPos,
      'Add `timeout`, for example `timeout: 50ms`.',
    );
  }
  const typeNode = reader.required(keys.type, `${what}.type`, entry.keyPos);
  const type = typeNode === undefined ? undefined : readFieldType(typeNode, `${what}.type`, reader);
  const fallback = readFallback(keys, type, what, entry, reader);
  const maxIds = readMaxBatch(keys, url.batched, what, reader);
  const breaker = readBreaker(keys, what, reader);

  if (
    reader.issues.count > before ||
    url.text === undefined ||
    type === undefined ||
    timeoutMs === undefined
  ) {
    return undefined;
  }
  return {
    entity,
    idType,
    name,
    url: url.text,
    method: method ?? 'GET',
    timeoutMs,
    fallback,
    type,
    batch: url.batched ? { maxIds } : undefined,
    breaker,
  };
}

function readUrl(
  keys: OnDemandKeys,
  what: string,
  entry: SpecEntry,
  reader: SpecReader,
): { text: string | undefined; batched: boolean } {
  const node = reader.required(keys.url, `${what}.url`, entry.keyPos);
  const text = reader.string(node, `${what}.url`);
  if (text === undefined || node === undefined) return { text: undefined, batched: false };
  const one = text.includes('{id}');
  const batched = text.includes('{ids}');
  let parsed: URL | undefined;
  try {
    parsed = new URL(text.replaceAll('{ids}', 'x').replaceAll('{id}', 'x'));
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what}.url "${text}" is not an http(s) URL`,
      node.pos,
    );
    return { text: undefined, batched };
  }
  if (one === batched) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what}.url must contain exactly one of {id} (one id per call) or {ids} (many ids per call)`,
      node.pos,
    );
    return { text: undefined, batched };
  }
  return { text, batched };
}

function readMethod(keys: OnDemandKeys, what: string, reader: SpecReader): 'GET' | 'POST' | undefined {
  const node = present(keys.method);
  const text = reader.string(node, `${what}.method`);
  if (text === undefined || node === undefined) return undefined;
  const method = text.toUpperCase();
  if (method === 'GET' || method === 'POST') return method;
  reader.issues.add(
    'LARDER_ERR_SPEC_INVALID_VALUE',
    `${what}.method must be GET or POST, found "${text}"`,
    node.pos,
  );
  return undefined;
}

/**
 * A duration in milliseconds under its current key (`timeout`, `reset`), or under its deprecated
 * `...Ms` key as an integer of milliseconds, with a warning. At most `max` ms when given.
 */
function readMs(
  current: SpecEntry | undefined,
  deprecated: SpecEntry | undefined,
  what: string,
  reader: SpecReader,
  max?: number,
): number | undefined {
  const old = `${what}Ms`;
  const key = what.split('.').pop() ?? what;
  if (current !== undefined && deprecated !== undefined) {
    reader.issues.add(
      'LARDER_ERR_SPEC_DUPLICATE',
      `${old} and ${key} say the same thing; keep ${key}`,
      deprecated.keyPos,
      `Remove \`${key}Ms\`.`,
    );
    return undefined;
  }
  let ms: number | undefined;
  let node: SpecNode | undefined;
  if (deprecated !== undefined) {
    node = present(deprecated);
    ms = reader.int(deprecated, old, 1);
    if (ms !== undefined) {
      reader.issues.warn(
        'LARDER_ERR_SPEC_DEPRECATED',
        `${old} is deprecated: write ${key}: ${ms}ms`,
        deprecated.keyPos,
        `Write \`${key}: ${ms}ms\` instead of \`${key}Ms: ${ms}\`.`,
      );
    }
  } else {
    node = present(current);
    ms = reader.duration(current, what);
  }
  if (ms === undefined || node === undefined || max === undefined || ms <= max) return ms;
  reader.issues.add(
    'LARDER_ERR_SPEC_INVALID_VALUE',
    `${deprecated === undefined ? what : old} must be at most ${max / 1000}s, found ${ms} ms`,
    node.pos,
  );
  return undefined;
}

function readFallback(
  keys: OnDemandKeys,
  type: FieldType | undefined,
  what: string,
  entry: SpecEntry,
  reader: SpecReader,
): unknown {
  // `fallback:` with no value (or null) is allowed: it serves null.
  if (keys.fallback === undefined) {
    reader.issues.add(
      'LARDER_ERR_SPEC_MISSING_KEY',
      `${what}.fallback is required (use null to serve null)`,
      entry.keyPos,
      'Add `fallback`, the value served when the upstream fails.',
    );
    return null;
  }
  const value = toPlainValue(keys.fallback.value);
  if (type !== undefined && value !== null && !checkValueType(type, value)) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what}.fallback ${JSON.stringify(value)} is not a ${formatFieldType(type)}`,
      keys.fallback.value.pos,
    );
  }
  return value;
}

function readMaxBatch(keys: OnDemandKeys, batched: boolean, what: string, reader: SpecReader): number {
  const node = present(keys.maxBatch);
  if (node === undefined) return DEFAULT_MAX_BATCH;
  if (!batched) {
    reader.issues.add('LARDER_ERR_SPEC_INVALID_VALUE', `${what}.maxBatch needs a url with {ids}`, node.pos);
    return DEFAULT_MAX_BATCH;
  }
  const value = reader.int(keys.maxBatch, `${what}.maxBatch`, 1);
  if (value === undefined || value <= MAX_BATCH) return value ?? DEFAULT_MAX_BATCH;
  reader.issues.add(
    'LARDER_ERR_SPEC_INVALID_VALUE',
    `${what}.maxBatch must be at most ${MAX_BATCH}`,
    node.pos,
  );
  return DEFAULT_MAX_BATCH;
}

function readBreaker(keys: OnDemandKeys, what: string, reader: SpecReader): OnDemandDef['breaker'] {
  const node = present(keys.breaker);
  if (node === undefined) return { ...DEFAULT_BREAKER };
  const map = reader.map(node, `${what}.breaker`);
  if (map === undefined) return { ...DEFAULT_BREAKER };
  const breaker = reader.keys(map, BREAKER_KEYS, `${what}.breaker`);
  return {
    failures: reader.int(breaker.failures, `${what}.breaker.failures`, 1) ?? DEFAULT_BREAKER.failures,
    resetMs:
      readMs(breaker.reset, breaker.resetMs, `${what}.breaker.reset`, reader) ?? DEFAULT_BREAKER.resetMs,
  };
}

/** The value node of an entry, or undefined when the key is absent or has no value. */
function present(entry: SpecEntry | undefined): SpecNode | undefined {
  if (entry === undefined || (entry.value.kind === 'scalar' && entry.value.value === null)) return undefined;
  return entry.value;
}
