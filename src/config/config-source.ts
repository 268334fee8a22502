import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
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

/** Reads and parses `file`; problems (unreadable file, YAML syntax) come back as issues. */
export function readConfigSource(file: string | undefined): {
  readonly source: ConfigSource;
  readonly issues: readonly ConfigIssue[];
} {
  if (file === undefined) return { source: emptySource(undefined), issues: [] };
  let text: string;
  try {
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
  return {
    source: {
      file,
      data: doc.contents === null ? {} : (doc.toJS() as unknown),
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
