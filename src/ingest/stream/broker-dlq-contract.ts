/**
 * Inspection and replay of a broker's dead-letter stream (`larder dlq --broker`). Each adapter that
 * keeps dead letters in its broker implements this next to its `StreamSource`.
 */
export interface BrokerDeadLetter {
  /** Id within the dead-letter stream (Redis entry id, NATS stream sequence). */
  readonly id: string;
  /** The original event bytes, unchanged. */
  readonly payload: string;
  /** Every header the dead letter carries (`larder-attempts`, `larder-last-error`, ...). */
  readonly headers: Readonly<Record<string, string>>;
  /** Epoch ms at which it was dead-lettered. */
  readonly deadAt: number | undefined;
}

export interface BrokerDeadLetterQueue {
  /** Where the dead letters live, for operators: `redis://…/client_event:dlq`. */
  readonly location: string;
  /** Oldest first, strictly after `after` when given. */
  list(options?: { readonly limit?: number; readonly after?: string }): Promise<BrokerDeadLetter[]>;
  get(id: string): Promise<BrokerDeadLetter | undefined>;
  count(): Promise<number>;
  /**
   * Publishes the dead letters back to the original topic with their original identity (same
   * bytes, same publication time header), so the event id and row timestamp are the same as on
   * the first delivery and the writes stay idempotent; then removes them from the dead-letter
   * stream. Returns the ids replayed. Throws `LARDER_ERR_DLQ_NOT_FOUND` for an unknown id.
   */
  replay(ids: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}
