/**
 * The handler contract: what a worker calls for each invocation, whatever runs behind it (a module
 * in a worker thread, an HTTP service, a long-lived process). docs/enrichment.md states what each
 * kind of handler sees.
 *
 * A call resolves with the handler's result (JSON data) or rejects with a `LarderError` whose code
 * says what happened: `LARDER_ERR_ENRICH_HANDLER` (the handler failed), `..._TIMEOUT` (no answer
 * within `timeoutMs`), `..._CRASHED` (its thread or process died during the call) or
 * `..._BREAKER_OPEN` (an http handler held back). Every one of them is retried by the worker.
 */
export interface HandlerCall {
  readonly enricher: string;
  readonly invocationId: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  readonly input: Record<string, unknown>;
  readonly timeoutMs: number;
}

export interface EnrichmentHandler {
  call(call: HandlerCall): Promise<unknown>;
  /**
   * How many more calls the handler can start right now; undefined: no limit of its own. An http
   * handler whose breaker is open answers 0, so the worker takes no work it would fail at once.
   */
  capacity?(): number;
  /** Stops the handler (a command's process); calls in flight are failed. */
  close(): Promise<void>;
}

/** The text of anything thrown, for error messages. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
