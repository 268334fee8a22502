import { checkValueType } from './check-value-type.ts';
import { formatFieldType, parseFieldType } from './field-type.ts';
import type { SpecReader } from './node-reader.ts';
import type { SpecEntry, SpecNode } from './spec-node.ts';
import type { FieldType, OnDemandDef, Registry, SourcePos } from './types.ts';

/**
 * Compiles `onDemand.<entity>.<feature>` (see `OnDemandDef` in types.ts). `compileOnDemand` works
 * on the plain block (registries built by hand); `compileOnDemandBlock` is what the loader runs,
 * and reports each problem at its file:line:column.
 */

export const ON_DEMAND_KEYS = [
  'url',
  'method',
  'timeoutMs',
  'fallback',
  'type',
  'maxBatch',
  'breaker',
] as const;
export const DEFAULT_BREAKER = { failures: 5, resetMs: 5_000 } as const;
export const DEFAULT_MAX_BATCH = 100;
const MAX_TIMEOUT_MS = 60_000;

/** A problem in the `onDemand` block, with the dotted path of the offending key. */
export interface OnDemandIssue {
  readonly code:
    | 'LARDER_ERR_SPEC_TYPE'
    | 'LARDER_ERR_SPEC_UNKNOWN_KEY'
    | 'LARDER_ERR_SPEC_MISSING_KEY'
    | 'LARDER_ERR_SPEC_INVALID_VALUE'
    | 'LARDER_ERR_SPEC_FIELD_TYPE'
    | 'LARDER_ERR_SPEC_REFERENCE'
    | 'LARDER_ERR_SPEC_DUPLICATE'
    | 'LARDER_ERR_SPEC_NAME';
  readonly path: string;
  readonly message: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Compiles the raw `registry.extensions.onDemand` block. Reports every problem at once; the defs are
 * only meaningful when `issues` is empty.
 */
export function compileOnDemand(registry: Pick<Registry, 'entities' | 'featuresByEntity' | 'extensions'>): {
  defs: OnDemandDef[];
  issues: OnDemandIssue[];
} {
  const raw = registry.extensions['onDemand'];
  const defs: OnDemandDef[] = [];
  const issues: OnDemandIssue[] = [];
  if (raw === undefined || raw === null) return { defs, issues };
  const add = (code: OnDemandIssue['code'], path: string, message: string): void => {
    issues.push({ code, path, message });
  };
  if (!isRecord(raw)) {
    add('LARDER_ERR_SPEC_TYPE', 'onDemand', 'onDemand must be a map of entity -> feature -> source');
    return { defs, issues };
  }
  for (const [entity, features] of Object.entries(raw)) {
    const entityPath = `onDemand.${entity}`;
    if (!registry.entities.has(entity)) {
      add('LARDER_ERR_SPEC_REFERENCE', entityPath, `"${entity}" is not an entity of this registry`);
      continue;
    }
    if (!isRecord(features)) {
      add('LARDER_ERR_SPEC_TYPE', entityPath, `${entityPath} must be a map of feature name -> source`);
      continue;
    }
    for (const [name, spec] of Object.entries(features)) {
      const def = compileOne(entity, name, spec, registry, add);
      if (def !== undefined) def.idType = registry.entities.get(entity)?.idType ?? 'string';
      if (def !== undefined) defs.push(def);
    }
  }
  return { defs, issues };
}

function compileOne(
  entity: string,
  name: string,
  spec: unknown,
  registry: Pick<Registry, 'featuresByEntity'>,
  add: (code: OnDemandIssue['code'], path: string, message: string) => void,
): Mutable<OnDemandDef> | undefined {
  const path = `onDemand.${entity}.${name}`;
  const before = { n: 0 };
  const report = (code: OnDemandIssue['code'], at: string, message: string): void => {
    before.n++;
    add(code, at, message);
  };
  if (!NAME.test(name) || name === 'id') {
    report(
      'LARDER_ERR_SPEC_NAME',
      path,
      `"${name}" is not a usable feature name (letters, digits, _; not "id")`,
    );
  }
  if (registry.featuresByEntity.get(entity)?.has(name) === true) {
    report('LARDER_ERR_SPEC_DUPLICATE', path, `${entity}.${name} is already a stored feature`);
  }
  if (!isRecord(spec)) {
    report(
      'LARDER_ERR_SPEC_TYPE',
      path,
      `${path} must be a map with url, method, timeoutMs, fallback and type`,
    );
    return undefined;
  }
  for (const key of Object.keys(spec)) {
    if (!(ON_DEMAND_KEYS as readonly string[]).includes(key)) {
      report(
        'LARDER_ERR_SPEC_UNKNOWN_KEY',
        `${path}.${key}`,
        `unknown key "${key}"; allowed: ${ON_DEMAND_KEYS.join(', ')}`,
      );
    }
  }

  const url = spec['url'];
  let batched = false;
  if (url === undefined) report('LARDER_ERR_SPEC_MISSING_KEY', `${path}.url`, 'url is required');
  else if (typeof url !== 'string') report('LARDER_ERR_SPEC_TYPE', `${path}.url`, 'url must be a string');
  else {
    const hasId = url.includes('{id}');
    batched = url.includes('{ids}');
    let parsed: URL | undefined;
    try {
      parsed = new URL(url.replaceAll('{ids}', 'x').replaceAll('{id}', 'x'));
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      report('LARDER_ERR_SPEC_INVALID_VALUE', `${path}.url`, `url "${url}" is not an http(s) URL`);
    } else if (hasId === batched) {
      report(
        'LARDER_ERR_SPEC_INVALID_VALUE',
        `${path}.url`,
        'url must contain exactly one of {id} (one id per call) or {ids} (many ids per call)',
      );
    }
  }

  const methodRaw = spec['method'] ?? 'GET';
  const method = typeof methodRaw === 'string' ? methodRaw.toUpperCase() : methodRaw;
  if (method !== 'GET' && method !== 'POST') {
    report(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${path}.method`,
      `method must be GET or POST, got ${JSON.stringify(methodRaw)}`,
    );
  }

  const timeoutMs = spec['timeoutMs'];
  if (timeoutMs === undefined)
    report('LARDER_ERR_SPEC_MISSING_KEY', `${path}.timeoutMs`, 'timeoutMs is required');
  else if (
    typeof timeoutMs !== 'number' ||
    !Number.isInteger(timeoutMs) ||
    timeoutMs < 1 ||
    timeoutMs > MAX_TIMEOUT_MS
  ) {
    report(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${path}.timeoutMs`,
      `timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}`,
    );
  }

  const typeRaw = spec['type'];
  let type: FieldType | undefined;
  if (typeRaw === undefined) report('LARDER_ERR_SPEC_MISSING_KEY', `${path}.type`, 'type is required');
  else if (typeof typeRaw !== 'string' || (type = parseFieldType(typeRaw)) === undefined) {
    report(
      'LARDER_ERR_SPEC_FIELD_TYPE',
      `${path}.type`,
      `type ${JSON.stringify(typeRaw)} is not int, float, string, bool, json or list<T>`,
    );
  }

  if (!('fallback' in spec)) {
    report(
      'LARDER_ERR_SPEC_MISSING_KEY',
      `${path}.fallback`,
      'fallback is required (use null to serve null)',
    );
  } else if (type !== undefined && spec['fallback'] !== null && !checkValueType(type, spec['fallback'])) {
    report(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${path}.fallback`,
      `fallback ${JSON.stringify(spec['fallback'])} is not a ${formatFieldType(type)}`,
    );
  }

  let maxIds = DEFAULT_MAX_BATCH;
  if (spec['maxBatch'] !== undefined) {
    const value = spec['maxBatch'];
    if (!batched)
      report('LARDER_ERR_SPEC_INVALID_VALUE', `${path}.maxBatch`, 'maxBatch needs a url with {ids}');
    else if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10_000) {
      report(
        'LARDER_ERR_SPEC_INVALID_VALUE',
        `${path}.maxBatch`,
        'maxBatch must be an integer from 1 to 10000',
      );
    } else maxIds = value;
  }

  const breaker: { failures: number; resetMs: number } = { ...DEFAULT_BREAKER };
  const breakerRaw = spec['breaker'];
  if (breakerRaw !== undefined) {
    if (!isRecord(breakerRaw))
      report('LARDER_ERR_SPEC_TYPE', `${path}.breaker`, 'breaker must be a map {failures, resetMs}');
    else {
      for (const key of Object.keys(breakerRaw)) {
        if (key !== 'failures' && key !== 'resetMs')
          report(
            'LARDER_ERR_SPEC_UNKNOWN_KEY',
            `${path}.breaker.${key}`,
            `unknown key "${key}"; allowed: failures, resetMs`,
          );
      }
      const failures = breakerRaw['failures'] ?? breaker.failures;
      const resetMs = breakerRaw['resetMs'] ?? breaker.resetMs;
      if (typeof failures !== 'number' || !Number.isInteger(failures) || failures < 1) {
        report(
          'LARDER_ERR_SPEC_INVALID_VALUE',
          `${path}.breaker.failures`,
          'failures must be a positive integer',
        );
      } else breaker.failures = failures;
      if (typeof resetMs !== 'number' || !Number.isInteger(resetMs) || resetMs < 1) {
        report(
          'LARDER_ERR_SPEC_INVALID_VALUE',
          `${path}.breaker.resetMs`,
          'resetMs must be a positive integer (milliseconds)',
        );
      } else breaker.resetMs = resetMs;
    }
  }

  if (before.n > 0 || type === undefined) return undefined;
  return {
    entity,
    idType: 'string',
    name,
    url: url as string,
    method: method as 'GET' | 'POST',
    timeoutMs: timeoutMs as number,
    fallback: spec['fallback'] ?? null,
    type,
    batch: batched ? { maxIds } : undefined,
    breaker,
  };
}

/**
 * The loader's step: compiles the merged plain block and reports each problem through `reader`
 * at the position of the key or value it names, found in the block's YAML entries.
 */
export function compileOnDemandBlock(
  entries: readonly SpecEntry[],
  plain: unknown,
  registry: Pick<Registry, 'entities' | 'featuresByEntity'>,
  reader: SpecReader,
): OnDemandDef[] {
  if (plain === undefined) return [];
  const { defs, issues } = compileOnDemand({ ...registry, extensions: { onDemand: plain } });
  for (const issue of issues)
    reader.issues.add(
      issue.code,
      `${issue.path}: ${issue.message}`,
      locate(
        entries,
        issue.path,
        issue.code === 'LARDER_ERR_SPEC_INVALID_VALUE' || issue.code === 'LARDER_ERR_SPEC_FIELD_TYPE',
      ),
    );
  return defs;
}

/** The position of `onDemand.a.b.c` in the YAML: the deepest key of the path that exists. */
function locate(entries: readonly SpecEntry[], path: string, atValue: boolean): SourcePos {
  const segments = path.split('.').slice(1);
  let best: SourcePos = entries[0]?.keyPos ?? { file: '.', line: 1, column: 1 };
  for (const block of entries) {
    let node: SpecNode = block.value;
    let found = false;
    for (const segment of segments) {
      if (node.kind !== 'map') break;
      const entry = node.entries.find((e) => e.key === segment);
      if (entry === undefined) break;
      // A bad value is reported at the value, anything else (unknown, missing, ...) at its key.
      best = atValue && entry.key === segments.at(-1) ? entry.value.pos : entry.keyPos;
      node = entry.value;
      found = true;
    }
    if (found) return best;
  }
  return best;
}
