/**
 * What flows through the write path, whatever the source (HTTP push, a broker, a batch file).
 */

/** One event as it arrives, before routing. */
export interface IncomingEvent {
  readonly stream: string;
  readonly topic: string;
  /** The parsed JSON body. Anything that is not a plain object is rejected. */
  readonly body: unknown;
  /**
   * The event's original bytes, used for the default event id (a hash) when the stream names no
   * eventIdField. When absent, a canonical JSON encoding of `body` is hashed instead.
   */
  readonly bytes?: string | Uint8Array;
  /** Arrival time, epoch ms: the event time when the stream names no timestampField. */
  readonly receivedAt: number;
}

export type EventOutcome = 'written' | 'filtered' | 'rejected';

export interface Rejection {
  readonly code: string;
  readonly message: string;
  /** `<entity>.<feature>` whose mapping failed, when the failure is specific to one feature. */
  readonly feature?: string;
}

export interface EventResult {
  readonly outcome: EventOutcome;
  /** Number of store writes this event produced. */
  readonly writes: number;
  /** Why the event was rejected; empty unless outcome is `rejected`. */
  readonly rejections: readonly Rejection[];
}

/** Per-batch answer, also the body of the HTTP push response. */
export interface IngestReport {
  readonly accepted: number;
  readonly filtered: number;
  readonly rejected: number;
  /** One entry per rejected event, with its index in the batch. */
  readonly rejections: readonly {
    readonly index: number;
    readonly code: string;
    readonly message: string;
    readonly feature?: string;
  }[];
  /** Per-event results in batch order, for consumers that ack message by message. */
  readonly results: readonly EventResult[];
}
