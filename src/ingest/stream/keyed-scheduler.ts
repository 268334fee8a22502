/**
 * Runs work items in parallel while keeping the order of items that share a key.
 *
 * Each key hashes to a lane (a FIFO). A lane is either idle or owned by exactly one running
 * micro-batch, so two items of one key never run at the same time and always run in push order.
 * Different lanes run in parallel, up to a concurrency limit that may change at any moment
 * (adaptive concurrency). A micro-batch takes items from several idle lanes at once, so that one
 * durable store write covers many events; its size follows the backlog: `queued / limit`, between
 * 1 and `maxBatch`, which keeps every slot busy when little is queued and batches well when much is.
 */
export interface KeyedSchedulerOptions<T> {
  /** Runs one micro-batch. Must not reject: failures are the caller's to handle inside `run`. */
  readonly run: (batch: T[]) => Promise<void>;
  /** Current limit on concurrently running micro-batches (>= 1); read before every start. */
  readonly limit: () => number;
  /** Largest micro-batch. Default 500. */
  readonly maxBatch?: number;
  /** Number of lanes; more lanes mean fewer unrelated keys serialised by a hash collision. Default 1024. */
  readonly lanes?: number;
}

interface Lane<T> {
  readonly index: number;
  items: T[];
  head: number;
  busy: boolean;
  ready: boolean;
}

export class KeyedScheduler<T> {
  readonly #run: (batch: T[]) => Promise<void>;
  readonly #limit: () => number;
  readonly #maxBatch: number;
  readonly #lanes: Lane<T>[];
  readonly #ready: number[] = [];
  #readyHead = 0;
  #queued = 0;
  #running = 0;
  #unkeyed = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(options: KeyedSchedulerOptions<T>) {
    this.#run = options.run;
    this.#limit = options.limit;
    this.#maxBatch = Math.max(1, options.maxBatch ?? 500);
    const laneCount = Math.max(1, options.lanes ?? 1024);
    this.#lanes = Array.from({ length: laneCount }, (_, index) => ({
      index,
      items: [],
      head: 0,
      busy: false,
      ready: false,
    }));
  }

  /** Items waiting to start. */
  get queued(): number {
    return this.#queued;
  }

  /** Micro-batches running now. */
  get running(): number {
    return this.#running;
  }

  /**
   * Queues an item behind every earlier item of the same key. Undefined keys have no order.
   * `start: false` only queues it: a caller pushing a whole fetch calls `pump()` once afterwards,
   * so the fetch is cut into micro-batches sized by the whole backlog instead of the first items
   * each starting a batch of their own while slots are free.
   */
  push(item: T, key: string | undefined, start = true): void {
    const laneIndex =
      key === undefined ? this.#unkeyed++ % this.#lanes.length : laneOf(key, this.#lanes.length);
    const lane = this.#lanes[laneIndex]!;
    lane.items.push(item);
    this.#queued += 1;
    if (!lane.busy && !lane.ready) this.#markReady(lane);
    if (start) this.#pump();
  }

  /** Drops queued (not yet started) items matching `predicate`; returns how many. */
  remove(predicate: (item: T) => boolean): number {
    let removed = 0;
    for (const lane of this.#lanes) {
      const before = lane.items.length - lane.head;
      if (before === 0) continue;
      lane.items = lane.items.slice(lane.head).filter((item) => !predicate(item));
      lane.head = 0;
      removed += before - lane.items.length;
    }
    this.#queued -= removed;
    return removed;
  }

  /** Resolves when nothing is queued or running. */
  onIdle(): Promise<void> {
    if (this.#queued === 0 && this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Starts micro-batches while slots are free; call after the limit was raised. */
  pump(): void {
    this.#pump();
  }

  #pump(): void {
    while (this.#running < Math.max(1, this.#limit()) && this.#readyHead < this.#ready.length) {
      const slots = Math.max(1, this.#limit()) - this.#running;
      const target = Math.min(this.#maxBatch, Math.max(1, Math.ceil(this.#queued / slots)));
      const batch: T[] = [];
      const owned: Lane<T>[] = [];
      while (batch.length < target && this.#readyHead < this.#ready.length) {
        const lane = this.#lanes[this.#ready[this.#readyHead]!]!;
        this.#readyHead += 1;
        lane.ready = false;
        const take = Math.min(target - batch.length, lane.items.length - lane.head);
        if (take <= 0) continue; // emptied by `remove`
        for (let i = 0; i < take; i += 1) batch.push(lane.items[lane.head + i]!);
        lane.head += take;
        lane.busy = true;
        owned.push(lane);
      }
      this.#compactReady();
      if (batch.length === 0) break;
      this.#queued -= batch.length;
      this.#running += 1;
      void this.#run(batch).finally(() => this.#finished(owned));
    }
    this.#notifyIdle();
  }

  #finished(owned: Lane<T>[]): void {
    this.#running -= 1;
    for (const lane of owned) {
      lane.busy = false;
      if (lane.head >= lane.items.length) {
        lane.items = [];
        lane.head = 0;
      } else {
        if (lane.head > 1024) {
          lane.items = lane.items.slice(lane.head);
          lane.head = 0;
        }
        if (!lane.ready) this.#markReady(lane);
      }
    }
    this.#pump();
  }

  #markReady(lane: Lane<T>): void {
    lane.ready = true;
    this.#ready.push(lane.index);
  }

  #compactReady(): void {
    if (this.#readyHead > 1024 || this.#readyHead === this.#ready.length) {
      this.#ready.splice(0, this.#readyHead);
      this.#readyHead = 0;
    }
  }

  #notifyIdle(): void {
    if (this.#queued !== 0 || this.#running !== 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** FNV-1a, 32 bit: cheap and spreads short ids well. */
export function laneOf(key: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}
