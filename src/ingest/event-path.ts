/**
 * Dotted paths into an event (`params.article_id_v1`). A path is split once, when the spec is
 * compiled, so reading a field per event is a few property lookups.
 */

/** Reads one value out of an event; `undefined` when any segment is missing. */
export type PathReader = (event: unknown) => unknown;

/**
 * Compiles a dotted path into a reader. Segments walk objects by key and arrays by index
 * (`items.0.id`). When the walk finds nothing and the path has dots, the whole path is tried as one
 * literal key, so events that arrive already flattened (`{"params.article_id": 1}`) still match.
 */
export function compilePath(path: string): PathReader {
  const segments = path.split('.');
  if (segments.length === 1) return (event) => ownValue(event, path);
  return (event) => {
    let current: unknown = event;
    for (const segment of segments) {
      current = step(current, segment);
      if (current === undefined) break;
    }
    if (current === undefined) return ownValue(event, path);
    return current;
  };
}

/** Reads a dotted path once; prefer `compilePath` on hot paths. */
export function readPath(event: unknown, path: string): unknown {
  return compilePath(path)(event);
}

function step(current: unknown, segment: string): unknown {
  if (Array.isArray(current)) {
    const index = Number(segment);
    return Number.isInteger(index) && index >= 0 ? (current[index] as unknown) : undefined;
  }
  return ownValue(current, segment);
}

/** The object's own property `key`: never one inherited (`constructor`, `toString`, `__proto__`). */
function ownValue(value: unknown, key: string): unknown {
  return isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
