import { LarderError } from '../errors.ts';
import { UnparseableBody } from '../ingest/unparseable.ts';

/**
 * Splits an HTTP push body into event bodies (plugins/http-push.ts), with its cost bounded by the
 * body's size whatever it holds:
 *
 * - the events are counted before any is parsed (NDJSON lines, or the elements of a JSON array,
 *   by one scan of the text), and a body with more than `maxEvents` is refused whole
 *   (LARDER_ERR_LIMIT_EVENTS, 413) before anything is parsed or written;
 * - an event nested deeper than `MAX_EVENT_NESTING` levels is rejected alone, as an unparseable
 *   event with its raw text (so it is dead-lettered like a line that is not JSON), and never
 *   reaches code that walks events recursively.
 */
export const MAX_EVENT_NESTING = 64;

export type ParsedBody =
  | { readonly kind: 'events'; readonly bodies: readonly unknown[] }
  | { readonly kind: 'unparseable'; readonly body: UnparseableBody };

const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/jsonlines',
]);

const TOO_DEEP = `the event nests deeper than ${MAX_EVENT_NESTING} levels`;

/**
 * NDJSON types are read line by line. Otherwise the body is one JSON value (an array gives one
 * event per element); if that fails and the body is not declared `application/json` but has
 * several lines, it is read as NDJSON. Blank lines are skipped.
 */
export function parsePushBody(text: string, contentType: string | undefined, maxEvents: number): ParsedBody {
  if (contentType !== undefined && NDJSON_TYPES.has(contentType)) {
    return { kind: 'events', bodies: parseLines(text, maxEvents) };
  }
  const elements = isArrayText(text) ? scanArray(text, maxEvents) : undefined;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    if (contentType !== 'application/json' && hasSeveralLines(text)) {
      return { kind: 'events', bodies: parseLines(text, maxEvents) };
    }
    return { kind: 'unparseable', body: new UnparseableBody(text, errorMessage(err)) };
  }
  if (!Array.isArray(value)) {
    return {
      kind: 'events',
      bodies: [nestsDeeper(text, 0, text.length) ? new UnparseableBody(text, TOO_DEEP) : value],
    };
  }
  // The scan found the same elements JSON.parse did (it parsed): replace the too deep ones.
  for (const deep of elements?.deep ?? []) {
    value[deep.index] = new UnparseableBody(text.slice(deep.start, deep.end).trim(), TOO_DEEP);
  }
  return { kind: 'events', bodies: value };
}

function parseLines(text: string, maxEvents: number): unknown[] {
  const count = countLines(text, maxEvents);
  if (count > maxEvents) throw tooManyEvents(maxEvents);
  const bodies: unknown[] = [];
  forEachLine(text, (start, end) => {
    const line = text.slice(start, end);
    if (nestsDeeper(text, start, end)) {
      bodies.push(new UnparseableBody(line, TOO_DEEP));
      return;
    }
    try {
      bodies.push(JSON.parse(line) as unknown);
    } catch (err) {
      bodies.push(new UnparseableBody(line, errorMessage(err)));
    }
  });
  return bodies;
}

/** Calls `visit` with the bounds of each non-blank line (without its `\r\n`). */
function forEachLine(text: string, visit: (start: number, end: number) => void): void {
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    if (!isBlank(text, start, end)) visit(start, end);
    start = next;
  }
}

/** Non-blank lines, counted up to one past `limit`. */
function countLines(text: string, limit: number): number {
  let count = 0;
  let start = 0;
  while (start <= text.length && count <= limit) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (!isBlank(text, start, end)) count++;
    start = end + 1;
  }
  return count;
}

function hasSeveralLines(text: string): boolean {
  return countLines(text, 1) > 1;
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false;
  }
  return true;
}

function isArrayText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13 || c === 10) continue;
    return c === 91; // [
  }
  return false;
}

/**
 * One pass over a JSON array's text: refuses more than `maxEvents` elements, and finds the
 * elements nested deeper than MAX_EVENT_NESTING. Only meaningful for text JSON.parse accepts.
 */
function scanArray(
  text: string,
  maxEvents: number,
): { readonly deep: readonly { index: number; start: number; end: number }[] } {
  const deep: { index: number; start: number; end: number }[] = [];
  let depth = 0;
  let inString = false;
  let index = 0;
  let start = text.indexOf('[') + 1;
  let elementDepth = 0;
  let empty = true;
  let close = text.length;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      empty = false;
    } else if (c === 91 || c === 123) {
      depth++;
      empty = false;
      if (depth > elementDepth) elementDepth = depth;
    } else if (c === 93 || c === 125) {
      if (depth === 0) {
        close = i; // the array's own `]`
        break;
      }
      depth--;
    } else if (c === 44 && depth === 0) {
      if (elementDepth > MAX_EVENT_NESTING) deep.push({ index, start, end: i });
      if (++index >= maxEvents) throw tooManyEvents(maxEvents);
      start = i + 1;
      elementDepth = 0;
    } else if (c !== 32 && c !== 9 && c !== 13 && c !== 10) {
      empty = false;
    }
  }
  if (!empty && elementDepth > MAX_EVENT_NESTING) deep.push({ index, start, end: close });
  return { deep };
}

/** True when the JSON text between `start` and `end` nests brackets deeper than the bound. */
function nestsDeeper(text: string, start: number, end: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_EVENT_NESTING) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

function tooManyEvents(maxEvents: number): LarderError {
  return new LarderError(
    'LARDER_ERR_LIMIT_EVENTS',
    `the request holds more than ${maxEvents} events; the limit is ${maxEvents}`,
    { details: { limit: maxEvents } },
  );
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
