import { readFileSync, statSync } from 'node:fs';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
} from 'yaml';
import { ERROR_CATALOG } from '../errors.ts';
import type { ConfigIssue, ConfigPath } from './config-issues.ts';

/**
 * A config file read with YAML's document API, so every value keeps its place: `where(path)` says
 * `file:line:col` for any key path, which is how each problem points at its line.
 */
export interface ConfigSource {
  /** The file as given, or undefined for the zero-config default (no file). */
  readonly file: string | undefined;
  /** The file's content as plain data; `{}` without a file or for an empty one. */
  readonly data: unknown;
  /**
   * `file:line:col` of the value at `path` (of its key with `key: true`). A path that is not in
   * the file resolves to the deepest part of it that is; without a file, `(defaults)`.
   */
  where(path: ConfigPath, key?: boolean): string;
}

/** Largest config file read, bytes: far above any real one, and parsed in well under a second. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Values that aliases (`*name`) may copy in: stops a YAML alias bomb. */
export const MAX_CONFIG_ALIASES = 100;
/** Deepest nesting of maps and lists. */
export const MAX_CONFIG_DEPTH = 64;

/**
 * Reads and parses `file`; problems (unreadable or too large file, YAML syntax, an alias bomb,
 * absurd nesting) come back as issues, each in bounded time and memory.
 */
export function readConfigSource(file: string | undefined): {
  readonly source: ConfigSource;
  readonly issues: readonly ConfigIssue[];
} {
  if (file === undefined) return { source: emptySource(undefined), issues: [] };
  let text: string;
  try {
    const bytes = statSync(file).size;
    if (bytes > MAX_CONFIG_BYTES) {
      const message = `config ${file} is ${bytes} bytes; the limit is ${MAX_CONFIG_BYTES} bytes`;
      return { source: emptySource(file), issues: [issue('LARDER_ERR_CONFIG', `${file}:1:1`, message)] };
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return {
      source: emptySource(file),
      issues: [issue('LARDER_ERR_CONFIG', file, `cannot read config ${file}: ${(err as Error).message}`)],
    };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number | undefined): string => {
    if (offset === undefined) return `${file}:1:1`;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) =>
      issue('LARDER_ERR_CONFIG_YAML', where(error.pos[0]), `invalid YAML: ${error.message.split('\n')[0]}`),
    );
    return { source: emptySource(file), issues };
  }
  const tooDeep = firstTooDeep(doc, MAX_CONFIG_DEPTH);
  if (tooDeep !== undefined) {
    const message = `maps and lists nest more than ${MAX_CONFIG_DEPTH} levels deep`;
    return { source: emptySource(file), issues: [issue('LARDER_ERR_CONFIG_YAML', where(tooDeep), message)] };
  }
  let data: unknown;
  try {
    data = doc.contents === null ? {} : (doc.toJS({ maxAliasCount: MAX_CONFIG_ALIASES }) as unknown);
  } catch {
    // The one way toJS fails on a parsed document: aliases expanding past maxAliasCount.
    const message =
      `YAML aliases expand to too many nodes (more than ${MAX_CONFIG_ALIASES} aliased values); ` +
      'write the repeated values out';
    return {
      source: emptySource(file),
      issues: [issue('LARDER_ERR_CONFIG_YAML', where(firstAlias(doc)), message)],
    };
  }
  return {
    source: {
      file,
      data,
      where: (path, key = false) => where(offsetOf(doc, path, key)),
    },
    issues: [],
  };
}

function emptySource(file: string | undefined): ConfigSource {
  return { file, data: {}, where: () => (file === undefined ? '(defaults)' : `${file}:1:1`) };
}

function issue(code: ConfigIssue['code'], where: string, message: string): ConfigIssue {
  return { code, where, message, hint: ERROR_CATALOG[code].hint };
}

/** Offset of the first map or list nested deeper than `max` levels, if any. */
function firstTooDeep(doc: Document, max: number): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Collection(_key, node, path) {
      // `path` holds the document and every pair and collection above this node.
      const depth = path.filter((step) => isMap(step) || isSeq(step)).length;
      if (depth < max) return undefined;
      found = node.range?.[0];
      return visit.BREAK;
    },
  });
  return found;
}

/** Offset of the first alias in the document. */
function firstAlias(doc: Document): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      found = node.range?.[0];
      return visit.BREAK;
    },
  });
  return found;
}

/** Offset of the node at `path`, or of the key of the deepest pair on the way that exists. */
function offsetOf(doc: Document, path: ConfigPath, wantKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  let depth = 0;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined) break;
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
      keyNode = undefined;
      node = node.items[segment];
    } else break;
    depth++;
  }
  const found = depth === path.length;
  const valueStart = (node as Node | null)?.range?.[0];
  const keyStart = keyNode?.range?.[0];
  if (found && !wantKey && valueStart !== undefined && !isEmptyValue(node)) return valueStart;
  return keyStart ?? valueStart;
}

/** `key:` with no value: point at the key, not at the empty place after it. */
function isEmptyValue(node: unknown): boolean {
  return isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1];
}
