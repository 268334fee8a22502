import { formatFieldType } from './field-type.ts';
import type { FeatureDef, Registry } from './types.ts';

/** One difference between two registries, for `larder plan` and reload logs. */
export interface RegistryChange {
  readonly kind: 'entity' | 'stream' | 'feature' | 'extension';
  /** `user`, `client_event`, `user.recent_view_articles`, `ingestions`. */
  readonly name: string;
  readonly change: 'added' | 'removed' | 'changed';
  /** One line saying what changed. */
  readonly reason: string;
}

/** JSON of a value without source positions, which move whenever a file is edited. */
function shape(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (key === 'pos' ? undefined : v));
}

function describeFeatureChange(old: FeatureDef, next: FeatureDef): string {
  const parts: string[] = [];
  const oldFields = new Map(old.fields.map((f) => [f.name, formatFieldType(f.type)]));
  const nextFields = new Map(next.fields.map((f) => [f.name, formatFieldType(f.type)]));
  for (const [name, type] of nextFields) {
    const before = oldFields.get(name);
    if (before === undefined) parts.push(`+field ${name}: ${type}`);
    else if (before !== type) parts.push(`field ${name}: ${before} → ${type}`);
  }
  for (const name of oldFields.keys()) if (!nextFields.has(name)) parts.push(`-field ${name}`);
  const skip = new Set(['fields', 'pos', 'entity', 'name']);
  for (const key of Object.keys(next) as (keyof FeatureDef)[]) {
    if (skip.has(key) || shape(old[key]) === shape(next[key])) continue;
    const simple = (v: unknown): boolean => v === undefined || typeof v !== 'object';
    if (simple(old[key]) && simple(next[key]))
      parts.push(`${key} ${String(old[key])} → ${String(next[key])}`);
    else if (key === 'events')
      parts.push(`events changed (${old.events.length} → ${next.events.length} bindings)`);
    else parts.push(`${key} changed`);
  }
  return parts.join('; ');
}

function diffMaps<T>(
  kind: RegistryChange['kind'],
  old: ReadonlyMap<string, T>,
  next: ReadonlyMap<string, T>,
  describe: (a: T, b: T) => string,
): RegistryChange[] {
  const out: RegistryChange[] = [];
  for (const [name, value] of next) {
    const before = old.get(name);
    if (before === undefined) out.push({ kind, name, change: 'added', reason: `new ${kind}` });
    else if (shape(before) !== shape(value))
      out.push({ kind, name, change: 'changed', reason: describe(before, value) });
  }
  for (const name of old.keys()) {
    if (!next.has(name))
      out.push({ kind, name, change: 'removed', reason: `${kind} no longer in the registry` });
  }
  return out;
}

/** Changed keys of two flat records, as `key a → b`. */
function describeRecord(old: object, next: object): string {
  const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
  const parts: string[] = [];
  for (const key of keys) {
    const a = (old as Record<string, unknown>)[key];
    const b = (next as Record<string, unknown>)[key];
    if (shape(a) !== shape(b)) parts.push(`${key} ${shape(a) ?? 'unset'} → ${shape(b) ?? 'unset'}`);
  }
  return parts.join('; ');
}

/**
 * What applying `next` over `old` would change: added, removed and changed entities, streams,
 * features and extension blocks, each with a one-line reason. Empty when they are equivalent.
 */
export function planRegistryChange(old: Registry, next: Registry): RegistryChange[] {
  const features = (r: Registry): Map<string, FeatureDef> =>
    new Map(r.features.map((f) => [`${f.entity}.${f.name}`, f]));
  const extensions = (r: Registry): Map<string, unknown> => new Map(Object.entries(r.extensions));
  return [
    ...diffMaps('entity', old.entities, next.entities, describeRecord),
    ...diffMaps('stream', old.streams, next.streams, describeRecord),
    ...diffMaps('feature', features(old), features(next), describeFeatureChange),
    ...diffMaps('extension', extensions(old), extensions(next), () => 'block changed'),
  ];
}
