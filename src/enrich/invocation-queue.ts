/**
 * The invocation queue contract: where enrichment work waits, durably, between the event (or HTTP
 * request) that asked for it and the worker that runs the handler. Two engines implement it, one
 * conformance suite checks both (test/enrich/queue-conformance.ts):
 *
 * - `lmdb`: embedded mode, a named database in the data directory's LMDB environment;
 * - `bullmq`: distributed mode, one BullMQ queue per enricher on Redis.
 *
 * Every invocation has an id (unique per enricher) and a state:
 *
 * ```
 *   put ──▶ queued ──take──▶ running ──succeed──▶ succeeded
 *             ▲                │ │
 *             │       retry    │ └──bury──▶ dead ──replay──▶ queued
 *             └── failed ◀─────┘
 *           (runAt passed)     lease expired (worker died): taken again by the next take
 * ```
 *
 * Invariants every engine keeps:
 * - `put` is idempotent by id: an id the queue already holds (in any state) is left untouched, so
 *   a redelivered trigger event never queues its invocation twice. Resolved means durable.
 * - `take` hands an invocation to one caller at a time, under a lease of `leaseMs`, and counts the
 *   attempt (`attempts` is the number of takes, this one included). Nothing is lost when a worker
 *   dies, even by SIGKILL: once its lease runs out, the invocation is due again.
 * - `succeed`, `retry` and `bury` settle a claim only while its lease is the current one; a claim
 *   whose lease was lost (it expired and someone else took the invocation) settles nothing and
 *   answers false.
 * - `take` only returns invocations that are due: queued, failed whose `runAt` has passed, or
 *   running whose lease expired. Order is roughly first due, first taken.
 */

export type InvocationState = 'queued' | 'running' | 'succeeded' | 'failed' | 'dead';

export interface InvocationError {
  /** A `LARDER_ERR_*` code (`LARDER_ERR_ENRICH_HANDLER`, `..._TIMEOUT`, ...). */
  readonly code: string;
  readonly message: string;
}

/** One invocation as the queue holds it. Plain, JSON-serialisable data. */
export interface Invocation {
  readonly id: string;
  readonly enricher: string;
  readonly state: InvocationState;
  /** What the handler receives. */
  readonly input: Record<string, unknown>;
  /** How many times it was taken (attempts started), 0 while it never ran. */
  readonly attempts: number;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The handler's result, once succeeded. */
  readonly result?: unknown;
  /** The last failure: set in `failed` and `dead`. */
  readonly error?: InvocationError;
}

export interface NewInvocation {
  readonly id: string;
  readonly input: Record<string, unknown>;
}

/** An invocation a worker holds: settle it with `succeed`, `retry` or `bury`, passing the claim. */
export interface Claim {
  readonly invocation: Invocation;
  /** Engine-private proof of the lease (an LMDB lease token, a BullMQ lock token). */
  readonly token: string;
}

/** How many invocations of one enricher are in each state, and how old the oldest waiting one is. */
export interface QueueCounts {
  readonly queued: number;
  readonly running: number;
  /** Failed an attempt and wait for their retry. */
  readonly failed: number;
  readonly succeeded: number;
  readonly dead: number;
  /** `createdAt` of the oldest queued (or failed) invocation; undefined when none waits. */
  readonly oldestWaitingAt: number | undefined;
}

export interface InvocationQueue {
  readonly engine: 'lmdb' | 'bullmq';

  /** Adds invocations; ids already held are left as they are. Resolves once they are durable. */
  put(enricher: string, invocations: readonly NewInvocation[]): Promise<void>;

  /** Takes up to `max` due invocations, each now `running` under a lease of `leaseMs`. */
  take(enricher: string, max: number, leaseMs: number): Promise<Claim[]>;

  /** running -> succeeded, with the handler's result. False when the lease was lost. */
  succeed(enricher: string, claim: Claim, result: unknown): Promise<boolean>;

  /** running -> failed: taken again once `runAt` (epoch ms) has passed. False when the lease was lost. */
  retry(enricher: string, claim: Claim, error: InvocationError, runAt: number): Promise<boolean>;

  /** running -> dead: kept, with its error, until replayed. False when the lease was lost. */
  bury(enricher: string, claim: Claim, error: InvocationError): Promise<boolean>;

  get(enricher: string, id: string): Promise<Invocation | undefined>;

  counts(enricher: string): Promise<QueueCounts>;

  /** Dead invocations, oldest death first, after the one with id `after`. */
  dead(
    enricher: string,
    options?: { readonly limit?: number; readonly after?: string },
  ): Promise<Invocation[]>;

  /** dead -> queued with attempts back at 0; returns the ids that were dead (others are skipped). */
  replay(enricher: string, ids: readonly string[]): Promise<string[]>;

  /** Removes succeeded invocations that finished before `before` (epoch ms); returns how many. */
  purge(enricher: string, before: number): Promise<number>;

  /** Calls `listener` when this process adds invocations, so idle workers need not wait a poll. */
  onAdded(listener: (enricher: string) => void): () => void;

  close(): Promise<void>;
}
