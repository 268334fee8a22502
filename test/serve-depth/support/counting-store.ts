import type {
  ActionRow,
  OnlineStore,
  RangeQuery,
  StaticValue,
  StoreWrite,
} from '../../../src/store/online-store.ts';

/**
 * A REAL store with a call log: every read goes to the wrapped store unchanged; the log lets a
 * test assert how many round trips a request made and what each asked for.
 */
export class CallCountingStore implements OnlineStore {
  readonly name: string;
  readonly staticCalls: (readonly string[])[] = [];
  readonly rangeCalls: (readonly RangeQuery[])[] = [];
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
  getStatic(pks: readonly string[]): Promise<(StaticValue | undefined)[]> {
    this.staticCalls.push([...pks]);
    return this.#inner.getStatic(pks);
  }
  getRanges(queries: readonly RangeQuery[]): Promise<ActionRow[][]> {
    this.rangeCalls.push([...queries]);
    return this.#inner.getRanges(queries);
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
