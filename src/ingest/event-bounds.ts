/**
 * Bounds every event is held to before any of it reaches the store, so that one hostile or broken
 * event is rejected alone, with its own code, instead of failing the whole batch in the store
 * (which refuses the batch) or in a recursive encoder (which runs out of stack).
 *
 * The two id bounds together leave 364 bytes of the store's key limit (`MAX_KEY_BYTES` in
 * store/write-check.ts, 1900) for the entity prefix and the group name. A registry with longer
 * names can still build a key the store refuses: the mapping checks every write as the store
 * would (`writeProblem`) and rejects that event alone.
 */

/** Deepest nesting of objects and arrays in an event; the event object itself is level 1. */
export const MAX_EVENT_DEPTH = 64;
/** Largest entity id in its key form, UTF-8 bytes. */
export const MAX_ENTITY_ID_BYTES = 1024;
/** Largest event id, UTF-8 bytes. */
export const MAX_EVENT_ID_BYTES = 512;
/** Event times are epoch ms within the years 0000 to 9999 (what ISO-8601 can write). */
export const MIN_EVENT_TS = -62_167_219_200_000; // 0000-01-01T00:00:00Z
export const MAX_EVENT_TS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/**
 * Why `body` nests too deep, or undefined. Walks without recursion, so the check itself cannot
 * run out of stack, and stops at the first level past the bound.
 */
export function depthProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const stack: [unknown, number][] = [[body, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [value, depth] = item;
    if (depth > MAX_EVENT_DEPTH)
      return `event nests objects and arrays more than ${MAX_EVENT_DEPTH} levels deep`;
    const children = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/** In a `u` regex a surrogate pair is one code point, so this matches only lone surrogates. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Why `text` cannot be part of a store key, or undefined: over `maxBytes` UTF-8 bytes, a NUL
 * (the key separator of the embedded store), or a lone surrogate (which UTF-8 cannot encode: two
 * different ids would share one key).
 */
export function keyTextProblem(text: string, maxBytes: number): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(text)) return 'is not valid Unicode (it holds a lone surrogate)';
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) return `is ${bytes} bytes; at most ${maxBytes} are allowed`;
  return undefined;
}
