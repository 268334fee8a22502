/**
 * The `OnlineStore` contract. Every store (LMDB embedded, DynamoDB, ...) implements exactly this, and
 * one conformance suite (`test/store/conformance.ts`) runs unchanged against each of them.
 *
 * Keys follow the storage model: a partition key `<prefix><entity_id>#<group>` (built by
 * `partitionKey` in `keys/keys.ts`) and a sort key that is the event timestamp for action rows and
 * null for static values.
 *
 * The API is batch-first: the write path hands over a whole batch of writes, and the read path asks
 * for every key a request needs at once, so a remote store can answer in one round trip.
 */

/** One action row: an event turned into the values of an action feature. */
export interface ActionRow {
  /** Event time, epoch milliseconds. The sort key. */
  readonly ts: number;
  /** Idempotency key: a redelivered event rewrites this row instead of adding one. */
  readonly eventId: string;
  /** The row's fields by output name. */
  readonly values: Readonly<Record<string, unknown>>;
}

export interface ActionAppend {
  readonly kind: 'action';
  readonly pk: string;
  readonly row: ActionRow;
  /** Keep at most this many rows (newest by ts) under `pk`. */
  readonly maxCount: number;
  /** Row expires at `row.ts + ttlMs`. Undefined: never. */
  readonly ttlMs: number | undefined;
  /**
   * True when `row.ts` is the event's own time, so a redelivery of the event arrives with the
   * same ts (false or absent: the arrival time, which a redelivery changes). A store may then find
   * a redelivery by the row's key alone. Stores must stay idempotent by event id either way.
   */
  readonly stableTs?: boolean;
}

/** How a static write changes the stored value; the meaning follows the feature's containerType. */
export type StaticMutation =
  /** single: replace the value (only if `ts` is not older than the stored one). */
  | { readonly op: 'set'; readonly value: unknown }
  /** set: add a member (members are compared by their msgpack bytes). */
  | { readonly op: 'add'; readonly value: unknown }
  /** set: remove a member. */
  | { readonly op: 'remove'; readonly value: unknown }
  /** map: put `key -> value`. */
  | { readonly op: 'put'; readonly key: string; readonly value: unknown }
  /** map: delete `key`. */
  | { readonly op: 'delete'; readonly key: string };

export interface StaticWrite {
  readonly kind: 'static';
  readonly pk: string;
  readonly container: 'single' | 'set' | 'map';
  readonly mutation: StaticMutation;
  /** Event time, epoch ms. For `single`, an older ts never overwrites a newer value. */
  readonly ts: number;
  /** The value expires `ttlMs` after this write. Undefined: never. */
  readonly ttlMs: number | undefined;
  /** Bound on set members / map entries; the oldest members are evicted first. */
  readonly maxCount: number;
}

export type StoreWrite = ActionAppend | StaticWrite;

/** A stored static value as the read path sees it. */
export interface StaticValue {
  /**
   * single: the value; set: an array of members, newest first; map: a plain object.
   */
  readonly value: unknown;
  /** Event time of the newest write that shaped this value. */
  readonly ts: number;
}

export interface RangeQuery {
  readonly pk: string;
  /** At most this many rows, newest first. */
  readonly count: number;
  /** Only rows with `ts >= now - lastNSec*1000`. Undefined: no lower bound. */
  readonly lastNSec: number | undefined;
}

export interface OnlineStore {
  /** A short name for logs and metrics: `lmdb`, `dynamodb`. */
  readonly name: string;
  /** Opens connections or files. Must be called once before any other method. */
  open(): Promise<void>;
  /**
   * Applies a batch of writes. Resolves only once every write is durable. Writes to the same `pk`
   * within one batch are applied in array order.
   */
  write(writes: readonly StoreWrite[]): Promise<void>;
  /** Static values for many keys at once; `undefined` where absent or expired. Same order as `pks`. */
  getStatic(pks: readonly string[]): Promise<(StaticValue | undefined)[]>;
  /** Newest-first action rows for many keys at once. Expired rows are never returned. */
  getRanges(queries: readonly RangeQuery[]): Promise<ActionRow[][]>;
  /** Deletes expired rows and values; returns how many were removed. Called in the background. */
  purgeExpired(now?: number): Promise<number>;
  /** Cheap liveness check for `/readyz`. */
  ping(): Promise<boolean>;
  /**
   * Why the store cannot take writes right now (a full disk), or undefined when it can, for
   * `/readyz`. A store that answers reads may still refuse writes; this says so, and clears once
   * the cause does. Optional: a store without it is judged by `ping` alone.
   */
  writeProblem?(): Promise<string | undefined>;
  /** Flushes and releases resources. The store cannot be used afterwards. */
  close(): Promise<void>;
}
