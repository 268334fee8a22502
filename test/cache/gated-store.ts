import type {
  ActionRow,
  OnlineStore,
  RangeQuery,
  StaticValue,
  StoreWrite,
} from '../../src/store/online-store.ts';

export interface Hold {
  /** Resolves once the held read has its answer from the real store (and is now paused). */
  readonly readDone: Promise<void>;
  /** Lets the held read return. */
  release(): void;
}

/**
 * A real store with a pause button: `holdNextRead()` makes the next read wait, after the real
 * store answered, until the test releases it. That fixes an interleaving (read, then a write,
 * then the fill) that otherwise happens only by chance.
 */
export class GatedStore implements OnlineStore {
  readonly name: string;
  readonly #inner: OnlineStore;
  #hold: { done(): void; released: Promise<void> } | undefined;

  constructor(inner: OnlineStore) {
    this.#inner = inner;
    this.name = inner.name;
  }

  holdNextRead(): Hold {
    let done!: () => void;
    let release!: () => void;
    const readDone = new Promise<void>((r) => (done = r));
    const released = new Promise<void>((r) => (release = r));
    this.#hold = { done, released };
    return { readDone, release };
  }

  async #gate(): Promise<void> {
    const hold = this.#hold;
    if (hold === undefined) return;
    this.#hold = undefined;
    hold.done();
    await hold.released;
  }

  open(): Promise<void> {
    return this.#inner.open();
  }
  write(writes: readonly StoreWrite[]): Promise<void> {
    return this.#inner.write(writes);
  }
  async getStatic(pks: readonly string[]): Promise<(StaticValue | undefined)[]> {
    const out = await this.#inner.getStatic(pks);
    await this.#gate();
    return out;
  }
  async getRanges(queries: readonly RangeQuery[]): Promise<ActionRow[][]> {
    const out = await this.#inner.getRanges(queries);
    await this.#gate();
    return out;
  }
  purgeExpired(now?: number): Promise<number> {
    return this.#inner.purgeExpired(now);
  }
  ping(): Promise<boolean> {
    return this.#inner.ping();
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}
