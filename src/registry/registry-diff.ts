import { formatFieldType } from './field-type.ts';
import type { FeatureDef, FieldType, Registry } from './types.ts';

/** The registry's sections, as `larder plan` prints them, in this order. */
export const DIFF_SECTIONS = [
  'entities',
  'streams',
  'features',
  'ingestions',
  'enrichers',
  'onDemand',
] as const;
export type DiffSection = (typeof DIFF_SECTIONS)[number];

/** One changed key of a declaration: its dotted path inside it, and the values (JSON) before and after. */
export interface KeyChange {
  readonly key: string;
  /** Absent when the key was added. */
  readonly before?: string;
  /** Absent when the key was removed. */
  readonly after?: string;
}

/** One declaration added, removed or changed (with its changed keys). */
export interface DeclarationChange {
  readonly section: DiffSection;
  /** `user`, `client_event`, `user.recent_views`, an ingestion or enricher name. */
  readonly name: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly keys: readonly KeyChange[];
}

/** A change that stored data, stored keys or persisted queries cannot follow. */
export interface BreakingChange {
  /** Stable id, what `allowBreaking` lists: `type:user.recent.count`, `key:user`, `maxCount:user.recent`, `group-removed:user.old`. */
  readonly id: string;
  readonly reason: string;
}

function declarations(registry: Registry, section: DiffSection): Map<string, unknown> {
  switch (section) {
    case 'entities':
      return new Map(registry.entities);
    case 'streams':
      return new Map(registry.streams);
    case 'features':
      return new Map(registry.features.map((f) => [`${f.entity}.${f.name}`, f]));
    case 'ingestions':
      return new Map(registry.ingestions);
    case 'enrichers':
      return new Map(registry.enrichers);
    case 'onDemand':
      return new Map(registry.onDemand.map((d) => [`${d.entity}.${d.name}`, d]));
  }
}

const SKIPPED_KEYS = new Set(['pos', 'declared']);

function isFieldType(value: object): value is FieldType {
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined);
  return (
    'scalar' in value &&
    'list' in value &&
    keys.every((k) => k === 'scalar' || k === 'list' || k === 'vector')
  );
}

/** Array elements keyed by their `name` when every element has a distinct one, else by index. */
function elementKeys(items: readonly unknown[]): string[] {
  const names = items.map((item) =>
    typeof item === 'object' && item !== null && typeof (item as { name?: unknown }).name === 'string'
      ? (item as { name: string }).name
      : undefined,
  );
  const distinct = new Set(names);
  if (names.length > 0 && !names.includes(undefined) && distinct.size === names.length)
    return names as string[];
  return items.map((_, i) => `[${i}]`);
}

/** Leaves of a compiled declaration by dotted path, as JSON; source positions left out. */
export function flattenDeclaration(
  value: unknown,
  dir: string,
  prefix = '',
  out = new Map<string, string>(),
): Map<string, string> {
  if (value instanceof Map) value = Object.fromEntries(value);
  if (value === undefined) return out;
  if (typeof value === 'string' && (value === dir || value.startsWith(`${dir}/`))) {
    // Paths inside the registry directory, relative: two checkouts of one registry compare equal.
    out.set(prefix, JSON.stringify(`.${value.slice(dir.length)}`));
    return out;
  }
  if (typeof value !== 'object' || value === null) {
    out.set(prefix, JSON.stringify(value));
    return out;
  }
  if (isFieldType(value)) {
    out.set(prefix, formatFieldType(value));
    return out;
  }
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) {
      out.set(
        prefix,
        JSON.stringify(
          value.map((v: unknown) =>
            typeof v === 'string' && v.startsWith(`${dir}/`) ? `.${v.slice(dir.length)}` : v,
          ),
        ),
      );
      return out;
    }
    const keys = elementKeys(value);
    value.forEach((item, i) => {
      const key = keys[i] ?? `[${i}]`;
      flattenDeclaration(item, dir, key.startsWith('[') ? `${prefix}${key}` : join(prefix, key), out);
    });
    return out;
  }
  for (const [key, v] of Object.entries(value)) {
    if (SKIPPED_KEYS.has(key)) continue;
    flattenDeclaration(v, dir, join(prefix, key), out);
  }
  return out;
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

function keyChanges(before: unknown, beforeDir: string, after: unknown, afterDir: string): KeyChange[] {
  const a = flattenDeclaration(before, beforeDir);
  const b = flattenDeclaration(after, afterDir);
  const out: KeyChange[] = [];
  for (const [key, value] of b) {
    const old = a.get(key);
    if (old === undefined) out.push({ key, after: value });
    else if (old !== value) out.push({ key, before: old, after: value });
  }
  for (const [key, value] of a) if (!b.has(key)) out.push({ key, before: value });
  return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

/** Every declaration added, removed or changed from `old` to `next`, key by key, in section order. */
export function diffRegistries(old: Registry | undefined, next: Registry): DeclarationChange[] {
  const out: DeclarationChange[] = [];
  for (const section of DIFF_SECTIONS) {
    const before = old === undefined ? new Map<string, unknown>() : declarations(old, section);
    const after = declarations(next, section);
    const names = [...new Set([...before.keys(), ...after.keys()])].sort();
    for (const name of names) {
      const a = before.get(name);
      const b = after.get(name);
      if (a === undefined) out.push({ section, name, change: 'added', keys: [] });
      else if (b === undefined) out.push({ section, name, change: 'removed', keys: [] });
      else {
        const keys = keyChanges(a, old?.dir ?? '', b, next.dir);
        if (keys.length > 0) out.push({ section, name, change: 'changed', keys });
      }
    }
  }
  return out;
}

/**
 * The changes from `old` to `next` that data already stored under `old` cannot follow: a field's
 * type changed (stored rows keep the old type), an entity's prefix or id type changed (stored keys
 * are no longer found), a maxCount lowered (rows beyond it are trimmed on the next write). Removed
 * groups still used by persisted queries are found where the queries are (the runtime's plan).
 */
export function storedDataBreaks(old: Registry, next: Registry): BreakingChange[] {
  const out: BreakingChange[] = [];
  for (const [name, entity] of next.entities) {
    const before = old.entities.get(name);
    if (before === undefined) continue;
    if (before.prefix !== entity.prefix)
      out.push({
        id: `key:${name}`,
        reason: `entity ${name}: prefix "${before.prefix}" → "${entity.prefix}"; keys stored under the old prefix are no longer found`,
      });
    if (before.idType !== entity.idType)
      out.push({
        id: `key:${name}`,
        reason: `entity ${name}: idType ${before.idType} → ${entity.idType}; keys stored with the old id form are no longer found`,
      });
  }
  const oldFeatures = new Map(old.features.map((f) => [`${f.entity}.${f.name}`, f]));
  for (const feature of next.features) {
    const key = `${feature.entity}.${feature.name}`;
    const before = oldFeatures.get(key);
    if (before === undefined) continue;
    for (const field of feature.fields) {
      const was = fieldTypeOf(before, field.name);
      const now = formatFieldType(field.type);
      if (was !== undefined && was !== now)
        out.push({
          id: `type:${key}.${field.name}`,
          reason: `feature ${key}: field ${field.name} type ${was} → ${now}; values already stored keep ${was}`,
        });
    }
    if (before.featureType !== feature.featureType || before.containerType !== feature.containerType)
      out.push({
        id: `type:${key}`,
        reason: `feature ${key}: ${before.featureType}/${before.containerType} → ${feature.featureType}/${feature.containerType}; stored values have the old shape`,
      });
    if (feature.maxCount < before.maxCount)
      out.push({
        id: `maxCount:${key}`,
        reason: `feature ${key}: maxCount lowered ${before.maxCount} → ${feature.maxCount}; stored rows beyond ${feature.maxCount} are trimmed`,
      });
  }
  return out;
}

function fieldTypeOf(feature: FeatureDef, name: string): string | undefined {
  const field = feature.fields.find((f) => f.name === name);
  return field === undefined ? undefined : formatFieldType(field.type);
}
