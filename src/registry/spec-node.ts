import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { IssueCollector } from './issue-collector.ts';
import { DEFAULT_SPEC_LIMITS, type SpecLimits } from './spec-limits.ts';
import type { SourcePos } from './types.ts';

/**
 * A YAML node reduced to what validation needs: its kind, its value and where it starts. Every
 * node keeps its position so that any later rule can point at the exact key or value it rejects.
 */
export type SpecNode = SpecMap | SpecSeq | SpecScalar;

export interface SpecMap {
  readonly kind: 'map';
  readonly pos: SourcePos;
  readonly entries: readonly SpecEntry[];
}

export interface SpecSeq {
  readonly kind: 'seq';
  readonly pos: SourcePos;
  readonly items: readonly SpecNode[];
}

export interface SpecScalar {
  readonly kind: 'scalar';
  readonly pos: SourcePos;
  readonly value: string | number | boolean | null;
}

export interface SpecEntry {
  readonly key: string;
  readonly keyPos: SourcePos;
  readonly value: SpecNode;
}

/**
 * Converts one parsed YAML document; `null` for an empty document. Aliases are expanded here
 * (the YAML library keeps them as references), within `limits`: once the nodes produced by
 * aliases in this file pass `maxAliasNodes`, or nesting passes `maxDepth`, one issue is recorded
 * at the node that crossed the bound and the rest of the offending value reads as null. The work
 * and memory of a conversion are therefore bounded by the file's size plus `maxAliasNodes`.
 */
export function toSpecNode(
  doc: Document.Parsed,
  file: string,
  lineCounter: LineCounter,
  issues: IssueCollector,
  limits: SpecLimits = DEFAULT_SPEC_LIMITS,
): SpecNode | null {
  const position = (offset: number | undefined, fallback: SourcePos): SourcePos => {
    if (offset === undefined) return fallback;
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const fileStart: SourcePos = { file, line: 1, column: 1 };
  // Aliases being expanded, so that an alias inside its own anchor cannot recurse forever.
  const expanding = new Set<Node>();
  let aliasNodes = 0;
  let aliasBoundHit = false;
  let aliasReported = false;
  let depthBoundHit = false;

  const nothing = (pos: SourcePos): SpecScalar => ({ kind: 'scalar', pos, value: null });

  const convert = (node: unknown, fallback: SourcePos, depth: number): SpecNode => {
    if (isAlias(node)) {
      const pos = position(node.range?.[0], fallback);
      const target = node.resolve(doc);
      if (target === undefined || expanding.has(target) || aliasBoundHit) return nothing(pos);
      expanding.add(target);
      const converted = convert(target, fallback, depth);
      expanding.delete(target);
      if (aliasBoundHit && !aliasReported) {
        // Once, at the innermost alias that was being expanded when the bound was crossed.
        aliasReported = true;
        issues.add(
          'LARDER_ERR_SPEC_ALIAS',
          `aliases expand to more than ${limits.maxAliasNodes} nodes in this file (a YAML alias bomb?); ` +
            'this alias was not expanded',
          pos,
        );
        return nothing(pos);
      }
      return aliasBoundHit ? nothing(pos) : converted;
    }
    if (expanding.size > 0) {
      if (!aliasBoundHit && ++aliasNodes > limits.maxAliasNodes) aliasBoundHit = true;
      if (aliasBoundHit) return nothing(fallback);
    }
    if ((isMap(node) || isSeq(node)) && depth >= limits.maxDepth) {
      const pos = position(node.range?.[0], fallback);
      if (!depthBoundHit) {
        depthBoundHit = true;
        issues.add(
          'LARDER_ERR_SPEC_TOO_DEEP',
          `maps and lists nest more than ${limits.maxDepth} levels deep here`,
          pos,
        );
      }
      return nothing(pos);
    }
    if (isMap(node)) {
      const pos = position(node.range?.[0], fallback);
      const entries: SpecEntry[] = [];
      const seen = new Map<string, SourcePos>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key;
        const keyPos = position(isScalar(keyNode) ? keyNode.range?.[0] : undefined, pos);
        if (!isScalar(keyNode)) {
          issues.add('LARDER_ERR_SPEC_TYPE', 'map keys must be plain strings, not collections', keyPos);
          continue;
        }
        const key = String(keyNode.value);
        const first = seen.get(key);
        if (first !== undefined) {
          // Reported here rather than as a YAML error, so the rest of the file is still checked.
          issues.add(
            'LARDER_ERR_SPEC_DUPLICATE',
            `key "${key}" appears twice in the same map; first at ${formatPos(first)}`,
            keyPos,
            'Keep one of the two keys.',
          );
          continue;
        }
        seen.set(key, keyPos);
        entries.push({ key, keyPos, value: convertValue(pair.value, keyPos, depth + 1) });
      }
      return { kind: 'map', pos, entries };
    }
    if (isSeq(node)) {
      const pos = position(node.range?.[0], fallback);
      return { kind: 'seq', pos, items: node.items.map((item) => convert(item, pos, depth + 1)) };
    }
    if (isScalar(node)) {
      return { kind: 'scalar', pos: position(node.range?.[0], fallback), value: scalarValue(node.value) };
    }
    return nothing(fallback);
  };

  // `key:` with nothing after it points at the key: an empty value has no place of its own.
  const convertValue = (node: unknown, keyPos: SourcePos, depth: number): SpecNode => {
    if (node === null || node === undefined) return nothing(keyPos);
    if (isScalar(node) && node.value === null && node.source === '') return nothing(keyPos);
    return convert(node, keyPos, depth);
  };

  if (doc.contents === null) return null;
  return convert(doc.contents, fileStart, 0);
}

function scalarValue(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number(value);
  return String(value);
}

/** The plain JavaScript value of a node, for blocks passed through without compiling. */
export function toPlainValue(node: SpecNode): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toPlainValue);
    case 'map': {
      const out: Record<string, unknown> = {};
      // defineProperty, so a key named `__proto__` stays a plain key.
      for (const entry of node.entries) {
        Object.defineProperty(out, entry.key, {
          value: toPlainValue(entry.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
  }
}

/** `file:line:column`, for messages that name another place. */
export function formatPos(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.column}`;
}

/**
 * Where the value at `path` (`concurrency.min`, `retryDelays[1]`) under `node` is written: its
 * value's position, or its key's with `at: 'key'`; the deepest part of the path that exists when
 * the rest does not.
 */
export function positionAt(node: SpecNode, path: string, at: 'value' | 'key' = 'value'): SourcePos {
  let current = node;
  let pos = node.pos;
  for (const segment of path.split(/\.|(?=\[)/)) {
    const index = /^\[(\d+)\]$/.exec(segment);
    if (index !== null && current.kind === 'seq') {
      const item = current.items[Number(index[1])];
      if (item === undefined) break;
      current = item;
      pos = item.pos;
      continue;
    }
    const entry = current.kind === 'map' ? entryOf(current, segment) : undefined;
    if (entry === undefined) break;
    current = entry.value;
    pos = at === 'key' ? entry.keyPos : entry.value.pos;
  }
  return pos;
}

/** The entry for `key`, if the map has one. */
export function entryOf(map: SpecMap, key: string): SpecEntry | undefined {
  return map.entries.find((entry) => entry.key === key);
}
