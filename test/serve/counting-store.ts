import type {
  ActionRow,
  OnlineStore,
  RangeQuery,
  StaticValue,
  StoreWrite,
} from '../../src/store/online-store.ts';

/**
 * A thin wrapper around a REAL store that counts and records read calls, so tests can assert how
 * many round trips a request made. Every call goes to the wrapped store unchanged. `gate`, when
 * set, holds reads until it resolves (to catch a request mid-flight); `holdStaticResults` holds
 * values already read (a read racing a write).
 */
export class CountingStore implements OnlineStore {
  readonly name: string;
  readonly staticCalls: (readonly string[])[] = [];
  readonly rangeCalls: (readonly RangeQuery[])[] = [];
  gate: Promise<void> | undefined;
  /** When set, static reads read at once but hand their values back only once it resolves. */
  holdStaticResults: Promise<void> | undefined;
  /** When set, the next read throws it (once), as a broken store would. */
  failNext: Error | undefined;
  readonly #inner: OnlineStore;

  constructor(inner: OnlineStore) {
    this.#inner = inner;
    this.name = inner.name;
  }

  reset(): void {
    this.staticCalls.length = 0;
    this.rangeCalls.length = 0;
  }

  open(): Promise<void> {
    return this.#inner.open();
  }

  write(writes: readonly StoreWrite[]): Promise<void> {
    return this.#inner.write(writes);
  }

  async getStatic(pks: readonly string[]): Promise<(StaticValue | undefined)[]> {
    this.staticCalls.push([...pks]);
    if (this.gate !== undefined) await this.gate;
    this.#maybeFail();
    const values = await this.#inner.getStatic(pks);
    if (this.holdStaticResults !== undefined) await this.holdStaticResults;
    return values;
  }

  async getRanges(queries: readonly RangeQuery[]): Promise<ActionRow[][]> {
    this.rangeCalls.push([...queries]);
    if (this.gate !== undefined) await this.gate;
    this.#maybeFail();
    return this.#inner.getRanges(queries);
  }

  #maybeFail(): void {
    const err = this.failNext;
    this.failNext = undefined;
    if (err !== undefined) throw err;
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
