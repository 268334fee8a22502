import { LineCounter, parseAllDocuments } from 'yaml';
import type { IssueCollector } from './issue-collector.ts';
import { SpecReader } from './node-reader.ts';
import type { SourceFile } from './source-files.ts';
import { DEFAULT_SPEC_LIMITS, type SpecLimits } from './spec-limits.ts';
import { formatPos, toSpecNode, type SpecEntry, type SpecNode } from './spec-node.ts';
import type { SourcePos } from './types.ts';

/** The top-level keys a registry file may hold. */
export const TOP_LEVEL_KEYS = [
  'features',
  'entities',
  'streams',
  'ingestions',
  'onDemand',
  'enrichers',
  'allowBreaking',
] as const;

/** Blocks that other parts of Larder compile; the loader only gathers them. */
export const EXTENSION_KEYS = ['ingestions', 'onDemand', 'enrichers'] as const;
export type ExtensionKey = (typeof EXTENSION_KEYS)[number];

/** One named declaration (`entities.user`, `streams.client_event`): its key and its value node. */
export interface Declaration {
  readonly name: string;
  readonly keyPos: SourcePos;
  readonly value: SpecNode;
}

export interface FeatureDeclaration extends Declaration {
  readonly entity: string;
  readonly entityKeyPos: SourcePos;
}

/** All files' top-level blocks merged into one registry, duplicates already reported. */
export interface MergedSpec {
  readonly entities: readonly Declaration[];
  readonly streams: readonly Declaration[];
  /** In file order, then declaration order. */
  readonly features: readonly FeatureDeclaration[];
  /** Every `ingestions:` / `onDemand:` / `enrichers:` entry, file by file. */
  readonly extensions: Readonly<Record<ExtensionKey, readonly SpecEntry[]>>;
  /** True when at least one file parsed into a non-empty document. */
  readonly hasContent: boolean;
  /** Every file's `allowBreaking:` list: the breaking changes this version may make (docs/registry.md). */
  readonly allowBreaking: readonly string[];
}

/**
 * Parses every file and merges the top-level blocks. A file with YAML syntax errors contributes its
 * errors and nothing else; the other files are still read, so one run reports everything.
 */
export function mergeDocuments(
  files: readonly SourceFile[],
  issues: IssueCollector,
  limits: SpecLimits = DEFAULT_SPEC_LIMITS,
): MergedSpec {
  const reader = new SpecReader(issues);
  const entities: Declaration[] = [];
  const streams: Declaration[] = [];
  const features: FeatureDeclaration[] = [];
  const extensions: Record<ExtensionKey, SpecEntry[]> = { ingestions: [], onDemand: [], enrichers: [] };
  const firstSeen = new Map<string, SourcePos>();
  let hasContent = false;
  const allowBreaking: string[] = [];

  // Same name declared in two places (usually two files): report the second, naming the first.
  const claim = (kind: string, key: string, label: string, at: SourcePos): boolean => {
    const first = firstSeen.get(`${kind}\0${key}`);
    if (first === undefined) {
      firstSeen.set(`${kind}\0${key}`, at);
      return true;
    }
    issues.add(
      'LARDER_ERR_SPEC_DUPLICATE',
      `${label} is declared twice: first at ${formatPos(first)}, again here`,
      at,
      'Keep one declaration; each entity, stream and feature is declared once across all files.',
    );
    return false;
  };

  for (const file of files) {
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(file.content, { lineCounter, uniqueKeys: false, prettyErrors: false });
    const docList = Array.isArray(docs) ? docs : [];
    const syntaxErrors = docList.flatMap((doc) => doc.errors);
    if (syntaxErrors.length > 0) {
      const reported = new Set<number>();
      for (const error of syntaxErrors) {
        // The parser often reports one mistake several ways at one place; the first says it best.
        if (reported.has(error.pos[0])) continue;
        reported.add(error.pos[0]);
        const { line, col } = lineCounter.linePos(error.pos[0]);
        const message = error.message.split('\n')[0] ?? error.message;
        issues.add('LARDER_ERR_SPEC_YAML', `YAML syntax error: ${message}`, {
          file: file.path,
          line,
          column: col,
        });
      }
      continue;
    }
    for (const doc of docList) {
      const root = toSpecNode(doc, file.path, lineCounter, issues, limits);
      if (root === null) continue;
      const top = reader.map(root, 'the top level of a registry file');
      if (top === undefined) continue;
      hasContent = true;
      const blocks = reader.keys(top, TOP_LEVEL_KEYS, 'the top level');

      for (const [kind, into] of [
        ['entities', entities],
        ['streams', streams],
      ] as const) {
        const block = blocks[kind];
        const map = block === undefined ? undefined : reader.map(block.value, kind);
        for (const entry of map?.entries ?? []) {
          const label = `${kind === 'entities' ? 'entity' : 'stream'} "${entry.key}"`;
          if (claim(kind, entry.key, label, entry.keyPos)) {
            into.push({ name: entry.key, keyPos: entry.keyPos, value: entry.value });
          }
        }
      }

      const featureBlock = blocks.features;
      const byEntity = featureBlock === undefined ? undefined : reader.map(featureBlock.value, 'features');
      for (const entityEntry of byEntity?.entries ?? []) {
        const group = reader.map(entityEntry.value, `features.${entityEntry.key}`);
        for (const entry of group?.entries ?? []) {
          const label = `feature "${entityEntry.key}.${entry.key}"`;
          if (!claim('feature', `${entityEntry.key}\0${entry.key}`, label, entry.keyPos)) continue;
          features.push({
            entity: entityEntry.key,
            entityKeyPos: entityEntry.keyPos,
            name: entry.key,
            keyPos: entry.keyPos,
            value: entry.value,
          });
        }
      }

      for (const key of EXTENSION_KEYS) {
        const block = blocks[key];
        if (block !== undefined) extensions[key].push(block);
      }
      allowBreaking.push(...(reader.stringList(blocks.allowBreaking, 'allowBreaking') ?? []));
    }
  }
  return { entities, streams, features, extensions, hasContent, allowBreaking };
}
