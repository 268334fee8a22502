import { didYouMean } from './did-you-mean.ts';
import { parseDuration } from './duration.ts';
import type { IssueCollector } from './issue-collector.ts';
import type { SpecEntry, SpecMap, SpecNode } from './spec-node.ts';
import type { SourcePos } from './types.ts';

const GRAPHQL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True for names that can be GraphQL fields: `/^[A-Za-z_][A-Za-z0-9_]*$/`, not starting with `__`. */
export function isValidName(name: string): boolean {
  return GRAPHQL_NAME.test(name) && !name.startsWith('__');
}

/** Names of the properties every JavaScript object has (`constructor`, `toString`, ...). */
const OBJECT_PROPERTIES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * True for names that every JavaScript object already has as a property. Registry names become
 * keys of plain objects all through ingestion and serving, where such a name would find the
 * inherited property instead of nothing (a feature `constructor` already "in" every field map).
 */
export function isObjectPropertyName(name: string): boolean {
  return OBJECT_PROPERTIES.has(name);
}

/** The value node of an entry, or undefined when the key is absent or has no value (`key:` / `~`). */
function present(entry: SpecEntry | undefined): SpecNode | undefined {
  if (entry === undefined) return undefined;
  if (entry.value.kind === 'scalar' && entry.value.value === null) return undefined;
  return entry.value;
}

function describe(node: SpecNode): string {
  if (node.kind === 'map') return 'a map';
  if (node.kind === 'seq') return 'a list';
  if (node.value === null) return 'nothing';
  return `${typeof node.value} ${JSON.stringify(node.value)}`;
}

/**
 * Typed reads of spec nodes. Each read either returns a value or records an issue at the node it
 * rejects and returns undefined, so one pass finds every problem. A key given without a value
 * (`maxCount:` or `maxCount: ~`) counts as absent and takes its default.
 */
export class SpecReader {
  constructor(readonly issues: IssueCollector) {}

  /** The node as a map; `null` reads as an empty map. */
  map(node: SpecNode, what: string): SpecMap | undefined {
    if (node.kind === 'map') return node;
    if (node.kind === 'scalar' && node.value === null) return { kind: 'map', pos: node.pos, entries: [] };
    this.issues.add('LARDER_ERR_SPEC_TYPE', `${what} must be a map, found ${describe(node)}`, node.pos);
    return undefined;
  }

  /** Records an UNKNOWN_KEY issue for each key not in `allowed`; returns the entries by key. */
  keys<K extends string>(map: SpecMap, allowed: readonly K[], what: string): Partial<Record<K, SpecEntry>> {
    const out: Partial<Record<K, SpecEntry>> = {};
    for (const entry of map.entries) {
      if ((allowed as readonly string[]).includes(entry.key)) {
        out[entry.key as K] = entry;
        continue;
      }
      this.issues.add(
        'LARDER_ERR_SPEC_UNKNOWN_KEY',
        `unknown key "${entry.key}" in ${what}; allowed keys: ${allowed.join(', ')}`,
        entry.keyPos,
        `Remove the key or fix its spelling.${didYouMean(entry.key, allowed)}`,
      );
    }
    return out;
  }

  /** Records MISSING_KEY when the entry is absent or empty; returns its value node otherwise. */
  required(entry: SpecEntry | undefined, what: string, at: SourcePos): SpecNode | undefined {
    const node = present(entry);
    if (node !== undefined) return node;
    this.issues.add(
      'LARDER_ERR_SPEC_MISSING_KEY',
      `${what} is required`,
      entry?.keyPos ?? at,
      `Add \`${what.split('.').pop() ?? what}\`.`,
    );
    return undefined;
  }

  /** The items of a list node. */
  list(node: SpecNode, what: string): readonly SpecNode[] | undefined {
    if (node.kind === 'seq') return node.items;
    this.issues.add('LARDER_ERR_SPEC_TYPE', `${what} must be a list, found ${describe(node)}`, node.pos);
    return undefined;
  }

  /** A non-empty string. Numbers are accepted as their decimal text when `numbers` is set. */
  string(node: SpecNode | undefined, what: string, options: { numbers?: boolean } = {}): string | undefined {
    if (node === undefined) return undefined;
    if (node.kind === 'scalar' && typeof node.value === 'string') {
      if (node.value.trim() !== '') return node.value;
      this.issues.add('LARDER_ERR_SPEC_INVALID_VALUE', `${what} must not be empty`, node.pos);
      return undefined;
    }
    if (options.numbers === true && node.kind === 'scalar' && typeof node.value === 'number') {
      return String(node.value);
    }
    this.issues.add('LARDER_ERR_SPEC_TYPE', `${what} must be a string, found ${describe(node)}`, node.pos);
    return undefined;
  }

  /** An optional string entry. */
  optionalString(entry: SpecEntry | undefined, what: string): string | undefined {
    return this.string(present(entry), what);
  }

  /** One of a fixed set of words, with a "did you mean" hint. */
  oneOf<T extends string>(entry: SpecEntry | undefined, what: string, allowed: readonly T[]): T | undefined {
    const node = present(entry);
    if (node === undefined) return undefined;
    const text = this.string(node, what);
    if (text === undefined) return undefined;
    if ((allowed as readonly string[]).includes(text)) return text as T;
    this.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what} must be one of ${allowed.join(', ')}; found "${text}"`,
      node.pos,
      `Use one of ${allowed.join(', ')}.${didYouMean(text, allowed)}`,
    );
    return undefined;
  }

  /** An integer of at least `min`. */
  int(entry: SpecEntry | undefined, what: string, min: number): number | undefined {
    const node = present(entry);
    if (node === undefined) return undefined;
    if (node.kind === 'scalar' && Number.isSafeInteger(node.value) && (node.value as number) >= min) {
      return node.value as number;
    }
    this.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what} must be an integer ≥ ${min}, found ${describe(node)}`,
      node.pos,
      `Write a whole number of at least ${min}.`,
    );
    return undefined;
  }

  /** A number in `[min, max]`. */
  number(entry: SpecEntry | undefined, what: string, min: number, max: number): number | undefined {
    const node = present(entry);
    if (node === undefined) return undefined;
    const value = node.kind === 'scalar' ? node.value : undefined;
    if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return value;
    this.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what} must be a number from ${min} to ${max}, found ${describe(node)}`,
      node.pos,
    );
    return undefined;
  }

  bool(entry: SpecEntry | undefined, what: string): boolean | undefined {
    const node = present(entry);
    if (node === undefined) return undefined;
    if (node.kind === 'scalar' && typeof node.value === 'boolean') return node.value;
    this.issues.add(
      'LARDER_ERR_SPEC_TYPE',
      `${what} must be true or false, found ${describe(node)}`,
      node.pos,
    );
    return undefined;
  }

  /** A duration in milliseconds: `500ms`, `30s`, `10m`, `12h`, `30d`; zero only when `allowZero`. */
  duration(
    entry: SpecEntry | undefined,
    what: string,
    options: { allowZero?: boolean } = {},
  ): number | undefined {
    const node = present(entry);
    if (node === undefined) return undefined;
    const text = node.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
    const ms = text === undefined ? undefined : parseDuration(text);
    if (ms !== undefined && (ms > 0 || options.allowZero === true)) return ms;
    const zero = ms === 0 ? ' greater than zero' : '';
    this.issues.add(
      'LARDER_ERR_SPEC_DURATION',
      `${what} must be a duration${zero} (a number and a unit ms, s, m, h or d), found ${describe(node)}`,
      node.pos,
    );
    return undefined;
  }

  /** A dotted path into an event: non-empty segments separated by dots. */
  path(node: SpecNode | undefined, what: string): string | undefined {
    const text = this.string(node, what, { numbers: true });
    if (text === undefined || node === undefined) return undefined;
    if (text.split('.').every((segment) => segment.trim() !== '' && segment === segment.trim())) return text;
    this.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what} must be a dotted path like params.article_id, found "${text}"`,
      node.pos,
      'Separate non-empty path segments with single dots, without spaces.',
    );
    return undefined;
  }

  /** A list of strings (a single string is not accepted: it is usually a forgotten `[...]`). */
  stringList(entry: SpecEntry | undefined, what: string): string[] | undefined {
    const node = present(entry);
    if (node === undefined) return undefined;
    const items = this.list(node, what);
    if (items === undefined) return undefined;
    const out: string[] = [];
    items.forEach((item, i) => {
      const text = this.string(item, `${what}[${i}]`, { numbers: true });
      if (text !== undefined) out.push(text);
    });
    return out;
  }

  /**
   * Checks a name used as a GraphQL field or type; records NAME when it cannot be one, RESERVED
   * when it is a property of every JavaScript object.
   */
  name(name: string, what: string, at: SourcePos, hint?: string): boolean {
    if (!isValidName(name)) {
      this.issues.add(
        'LARDER_ERR_SPEC_NAME',
        `${what} "${name}" is not a valid name: names must match /^[A-Za-z_][A-Za-z0-9_]*$/ and not start with __`,
        at,
        hint,
      );
      return false;
    }
    if (isObjectPropertyName(name)) {
      this.issues.add(
        'LARDER_ERR_SPEC_RESERVED',
        `${what} "${name}" is reserved: every JavaScript object has a property of that name`,
        at,
        'Rename it.',
      );
      return false;
    }
    return true;
  }
}
