/**
 * The dead-letter table contract: events that could not be ingested, kept with their reasons so
 * that `larder dlq list|show|replay` can inspect and replay them. Nothing rejected is ever dropped.
 */
export interface DeadLetter {
  /** Monotonic, sortable id (time-based). */
  readonly id: string;
  readonly stream: string;
  readonly topic: string;
  /** The event as received: parsed body, or the raw text when it could not be parsed. */
  readonly body: unknown;
  readonly raw: string | undefined;
  readonly code: string;
  readonly reason: string;
  readonly feature: string | undefined;
  /** When it was dead-lettered, epoch ms. */
  readonly at: number;
  /** Where it came from (`http`, `redis:stream/id`, ...); free text for operators. */
  readonly origin: string;
  readonly attempts: number;
}

export type NewDeadLetter = Omit<DeadLetter, 'id' | 'at'> & { readonly at?: number };

export interface DeadLetterStore {
  add(entries: readonly NewDeadLetter[]): Promise<DeadLetter[]>;
  /** Oldest first, after the given id. */
  list(options?: { readonly limit?: number; readonly after?: string }): Promise<DeadLetter[]>;
  get(id: string): Promise<DeadLetter | undefined>;
  remove(ids: readonly string[]): Promise<number>;
  count(): Promise<number>;
}
