import type { ExtensionKey } from './merge-documents.ts';
import type { SpecReader } from './node-reader.ts';
import { formatPos, toPlainValue, type SpecEntry } from './spec-node.ts';
import type { SourcePos } from './types.ts';

/**
 * Merges the `ingestions:` / `onDemand:` blocks of all files into one plain value, uncompiled:
 * maps are merged by name (a name given twice is a DUPLICATE), lists are concatenated. Their own
 * compilers validate the content.
 */
export function mergeExtension(
  key: ExtensionKey,
  entries: readonly SpecEntry[],
  reader: SpecReader,
): unknown {
  const blocks = entries.filter((entry) => !(entry.value.kind === 'scalar' && entry.value.value === null));
  if (blocks.length === 0) return undefined;
  const kind = blocks[0]?.value.kind;
  if (kind === 'seq') {
    const out: unknown[] = [];
    for (const entry of blocks) {
      if (entry.value.kind === 'seq') out.push(...(toPlainValue(entry.value) as unknown[]));
      else
        reader.issues.add(
          'LARDER_ERR_SPEC_TYPE',
          `${key} must be a list in every file, as in the first`,
          entry.value.pos,
        );
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  const seen = new Map<string, SourcePos>();
  for (const entry of blocks) {
    const map = reader.map(entry.value, key);
    for (const item of map?.entries ?? []) {
      const first = seen.get(item.key);
      if (first !== undefined) {
        reader.issues.add(
          'LARDER_ERR_SPEC_DUPLICATE',
          `${key}.${item.key} is declared twice: first at ${formatPos(first)}, again here`,
          item.keyPos,
          'Keep one declaration.',
        );
        continue;
      }
      seen.set(item.key, item.keyPos);
      Object.defineProperty(out, item.key, {
        value: toPlainValue(item.value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return out;
}
