import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SourcePos } from './types.ts';

export interface SpecExcerpt {
  /** The lines of the block, as written (comments included). */
  readonly text: string;
  /** 1-based line of the block's first line in its file. */
  readonly firstLine: number;
}

/**
 * The YAML block whose key sits at `pos` in `dir`, as written: the key's line and every line after
 * it that is indented deeper (or blank, or a comment), up to the next key at the key's own level.
 * Undefined when the file cannot be read or no longer has a line there (it changed since it was
 * loaded). For the catalog, which shows a feature's spec with its file and line.
 */
export async function readSpecExcerpt(dir: string, pos: SourcePos): Promise<SpecExcerpt | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, pos.file), 'utf8');
  } catch {
    return undefined;
  }
  return specExcerpt(text, pos);
}

/** The block of `text` whose key starts at `pos` (see `readSpecExcerpt`). */
export function specExcerpt(text: string, pos: SourcePos): SpecExcerpt | undefined {
  const lines = text.split(/\r?\n/);
  const first = lines[pos.line - 1];
  if (first === undefined) return undefined;
  const keyIndent = pos.column - 1;
  const block = [first];
  for (let i = pos.line; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const trimmed = line.trim();
    if (trimmed !== '' && !trimmed.startsWith('#') && indentOf(line) <= keyIndent) break;
    block.push(line);
  }
  // Blank lines and comments after the block belong to whatever follows it.
  while (block.length > 1 && /^\s*(#.*)?$/.test(block[block.length - 1] ?? '')) block.pop();
  return { text: block.join('\n'), firstLine: pos.line };
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}
