/**
 * `JSON.stringify` for values that may nest deeper than the stack allows: a loop over an explicit
 * stack instead of recursion. For parsed JSON (plain objects, arrays, strings, finite numbers,
 * booleans, null) the text is the same as `JSON.stringify`'s; it is used only to keep a rejected,
 * too-deep event in the dead-letter table as text.
 */
export function deepJsonText(value: unknown): string {
  const parts: string[] = [];
  /** A container being written: its entries (key undefined in arrays), the next one, its closer. */
  interface Frame {
    readonly entries: readonly (readonly [string | undefined, unknown])[];
    next: number;
    readonly close: string;
  }
  const stack: Frame[] = [];
  const write = (item: unknown): void => {
    if (typeof item !== 'object' || item === null) {
      parts.push(JSON.stringify(item) ?? 'null');
    } else if (Array.isArray(item)) {
      parts.push('[');
      stack.push({ entries: item.map((child) => [undefined, child] as const), next: 0, close: ']' });
    } else {
      parts.push('{');
      const entries = Object.entries(item as Record<string, unknown>).filter(([, c]) => c !== undefined);
      stack.push({ entries, next: 0, close: '}' });
    }
  };
  write(value);
  for (let frame = stack.at(-1); frame !== undefined; frame = stack.at(-1)) {
    const entry = frame.entries[frame.next];
    if (entry === undefined) {
      stack.pop();
      parts.push(frame.close);
      continue;
    }
    if (frame.next > 0) parts.push(',');
    frame.next += 1;
    if (entry[0] !== undefined) parts.push(`${JSON.stringify(entry[0])}:`);
    write(entry[1]);
  }
  return parts.join('');
}
