const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/i;

/**
 * Parses a memory size: a number of bytes (`1048576`, `"1048576"`) or a number with a unit, `512kb`,
 * `256mb`, `1.5gb` (case-insensitive; units are powers of 1024). Undefined when it is not one.
 */
export function parseByteSize(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  if (typeof input !== 'string') return undefined;
  const match = SIZE.exec(input.trim());
  if (match === null) return undefined;
  const [, amount, unit] = match;
  const bytes = Math.floor(Number(amount) * (UNITS[(unit ?? 'b').toLowerCase()] ?? 1));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
