import type { z } from 'zod';
import { ERROR_CATALOG, type ErrorCode } from '../errors.ts';
import { closestMatch } from '../registry/did-you-mean.ts';

export type ConfigPath = readonly PropertyKey[];

/** One problem of a config file, with its place: `file:line:col`, or `$NAME` for a variable. */
export interface ConfigIssue {
  readonly code: ErrorCode;
  readonly where: string;
  readonly message: string;
  readonly hint: string;
}

/** Something that still works but will not for long (a deprecated key or variable). */
export interface ConfigWarning {
  readonly where: string;
  readonly message: string;
}

/**
 * One block per issue, as `larder config check` prints them:
 *
 * ```text
 * prod.yaml:1:1  LARDER_ERR_CONFIG_UNKNOWN_KEY  unknown key "stroe" at the top level. Did you mean "store"?
 *   hint: Remove the key or fix its spelling; docs/configuration.md lists every key of the config file.
 * ```
 */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.where}  ${i.code}  ${i.message}\n  hint: ${i.hint}`).join('\n');
}

export function dotted(path: ConfigPath): string {
  return path.map(String).join('.');
}

/** Where a value came from: its place in the file, or the variable that set it. */
export interface IssuePlaces {
  where(path: ConfigPath, key?: boolean): string;
  /** The environment variable that set the value at `path` (or a map above it), if one did. */
  variableAt(path: ConfigPath): string | undefined;
  valueAt(path: ConfigPath): unknown;
}

/**
 * Turns zod's issues into config issues: each at its place, an unknown key with the keys allowed
 * there and the closest one, a bad value with what it must be and what it was.
 */
export function configIssuesFrom(
  zodIssues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
  places: IssuePlaces,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const zi of zodIssues) {
    if (zi.code === 'unrecognized_keys') {
      const allowed = keysAt(schema, zi.path);
      for (const key of zi.keys) {
        const path = [...zi.path, key];
        const scope = zi.path.length === 0 ? 'at the top level' : `in ${dotted(zi.path)}`;
        const guess = closestMatch(key, allowed);
        out.push(
          make(
            'LARDER_ERR_CONFIG_UNKNOWN_KEY',
            places.variableAt(path) === undefined ? places.where(path, true) : `$${places.variableAt(path)}`,
            `unknown key "${key}" ${scope}${guess === undefined ? '' : `. Did you mean "${guess}"?`} ` +
              `(allowed: ${allowed.join(', ')})`,
          ),
        );
      }
      continue;
    }
    const variable = places.variableAt(zi.path);
    const value = places.valueAt(zi.path);
    const name = dotted(zi.path) || 'the config file';
    let message: string;
    if (value === undefined && zi.code === 'invalid_type') message = `${name} is required`;
    else {
      const must = zi.message.startsWith('must ') ? zi.message : `must be ${expectedOf(zi)}`;
      const guess =
        zi.code === 'invalid_value' && typeof value === 'string'
          ? closestMatch(value, zi.values.map(String))
          : undefined;
      const got = variable === undefined ? `got ${show(value)}` : `from ${variable}=${show(value)}`;
      message = `${name} ${must} (${got})${guess === undefined ? '' : `. Did you mean "${guess}"?`}`;
    }
    out.push(
      make(
        'LARDER_ERR_CONFIG_VALUE',
        variable === undefined ? places.where(zi.path) : `$${variable}`,
        message,
      ),
    );
  }
  return out;
}

function make(code: ErrorCode, where: string, message: string): ConfigIssue {
  return { code, where, message, hint: ERROR_CATALOG[code].hint };
}

function expectedOf(zi: z.core.$ZodIssue): string {
  if (zi.code !== 'invalid_type') return 'valid';
  switch (zi.expected) {
    case 'object':
    case 'record':
      return 'a map';
    case 'array':
      return 'a list';
    default:
      return `a ${zi.expected}`;
  }
}

function show(value: unknown): string {
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? 'a list' : 'a map';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The keys a strict map at `path` of `schema` allows, in declaration order. */
export function keysAt(schema: z.ZodType, path: ConfigPath): string[] {
  let node: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (node === undefined) return [];
    const def = node._zod.def as unknown as Record<string, unknown>;
    if (def.type === 'object') node = (def.shape as Record<string, z.ZodType>)[String(segment)];
    else if (def.type === 'record') node = def.valueType as z.ZodType;
    else if (def.type === 'array') node = def.element as z.ZodType;
    else return [];
    node = node === undefined ? undefined : unwrap(node);
  }
  const def = node?._zod.def as unknown as Record<string, unknown> | undefined;
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}

/** Past optional, default and pipes to the schema that reads the value. */
function unwrap(schema: z.ZodType): z.ZodType {
  let node = schema;
  for (;;) {
    const def = node._zod.def as unknown as Record<string, unknown>;
    if (['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch'].includes(String(def.type))) {
      node = def.innerType as z.ZodType;
    } else if (def.type === 'pipe') {
      // A preprocess is a pipe from a transform: the schema after it reads the value.
      const input = def.in as z.ZodType;
      node = (input._zod.def.type === 'transform' ? def.out : def.in) as z.ZodType;
    } else return node;
  }
}
