/**
 * Makes V8 store `text` as one flat string and returns it. Strings built with `+` are trees of
 * pieces; a text kept across requests that stays a tree is walked again by every answer that
 * includes it (turning a string into a number flattens it first).
 */
export function flat(text: string): string {
  void Number(text);
  return text;
}
