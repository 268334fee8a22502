/**
 * The body of an event whose bytes were not valid JSON. Sources hand it to the ingestor like any
 * other event, so that it keeps its place (index) in the batch, is counted and reported as
 * `LARDER_ERR_EVENT_PARSE`, and lands in the dead-letter table with its raw text.
 */
export class UnparseableBody {
  /** The raw text as received. */
  readonly raw: string;
  /** The parser's message, for the rejection reason. */
  readonly error: string;

  constructor(raw: string, error: string) {
    this.raw = raw;
    this.error = error;
  }
}

/** Parses JSON, or wraps the text in an `UnparseableBody`. */
export function parseJsonOrUnparseable(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    return new UnparseableBody(text, err instanceof Error ? err.message : String(err));
  }
}
