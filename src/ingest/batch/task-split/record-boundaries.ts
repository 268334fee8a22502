import { CsvParser } from '../readers/csv-parser.ts';
import type { ObjectSource, SourceObject } from '../sources/object-source.ts';

const WINDOW = 64 * 1024;

/**
 * JSONL split points moved forward to record boundaries: the byte after the first newline at or
 * after each point. JSON text never holds a raw newline, so a window read at each point suffices.
 * Returns sorted, distinct boundaries strictly inside the object.
 */
export async function jsonlBoundaries(
  source: ObjectSource,
  object: SourceObject,
  points: readonly number[],
): Promise<number[]> {
  const out: number[] = [];
  for (const point of points) {
    let from = Math.max(0, point - 1);
    let boundary: number | undefined;
    while (from < object.size && boundary === undefined) {
      const window = Buffer.from(await source.read(object.uri, from, Math.min(object.size, from + WINDOW)));
      const nl = window.indexOf(10);
      if (nl !== -1) boundary = from + nl + 1;
      else from += window.length;
      if (window.length === 0) break;
    }
    if (boundary !== undefined && boundary < object.size && boundary > (out[out.length - 1] ?? 0))
      out.push(boundary);
  }
  return out;
}

/**
 * CSV split points moved forward to record boundaries. A newline inside a quoted field is not a
 * boundary, and only the bytes before a point tell whether it is quoted, so this streams the file
 * from the start up to the last point, tracking quote parity (a doubled quote toggles twice).
 */
export async function csvBoundaries(
  source: ObjectSource,
  object: SourceObject,
  points: readonly number[],
): Promise<number[]> {
  const out: number[] = [];
  if (points.length === 0) return out;
  const pending = [...points].sort((a, b) => a - b);
  let inQuotes = false;
  let offset = 0;
  for await (const raw of source.stream(object.uri, 0, object.size)) {
    const chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === 34) inQuotes = !inQuotes;
      else if (c === 10 && !inQuotes) {
        const boundary = offset + i + 1;
        while (pending.length > 0 && (pending[0] as number) <= boundary) {
          pending.shift();
          if (boundary < object.size && boundary > (out[out.length - 1] ?? 0)) out.push(boundary);
        }
        if (pending.length === 0) return out;
      }
    }
    offset += chunk.length;
  }
  return out;
}

/** The header of a CSV file: its first record. */
export async function csvHeader(source: ObjectSource, object: SourceObject): Promise<string[]> {
  const parser = new CsvParser();
  for await (const raw of source.stream(object.uri, 0, object.size)) {
    const records = parser.push(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
    const first = records.find((r) => !(r.length === 1 && r[0] === ''));
    if (first !== undefined) return first.map((name) => name.trim());
  }
  return parser.end()[0]?.map((name) => name.trim()) ?? [];
}
