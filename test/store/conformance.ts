import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe } from 'vitest';
import type { OnlineStore } from '../../src/store/online-store.ts';
import { actionCases } from './conformance-actions.ts';
import { lifecycleCases } from './conformance-lifecycle.ts';
import { staticCases } from './conformance-static.ts';
import { vectorCases } from './conformance-vectors.ts';

/**
 * What a store factory hands the conformance suite. The factory builds the store with a settable
 * clock (the store's `now` option) and returns its setter as `now`, so TTL and `lastNSec` cases
 * move time instead of sleeping; a store that cannot take a clock returns `undefined` and the
 * cases that need one are skipped. The store is returned unopened: the suite calls `open()`.
 */
export interface StoreUnderTest {
  readonly store: OnlineStore;
  readonly now: { set(ms: number): void } | undefined;
  cleanup(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

export interface ConformanceOptions {
  /**
   * Whether `purgeExpired` reports exactly how many entries it deleted. A store whose engine
   * expires data by itself (DynamoDB TTL) may purge nothing and return 0. Default true.
   */
  readonly purgeReportsCount?: boolean;
}

/** The state each case reads; fresh for every case. */
export interface ConformanceContext {
  readonly store: OnlineStore;
  /** "Now" at the start of the case: fixed when the clock is settable, else the wall clock. */
  readonly t0: number;
  /** The store's clock setter, or undefined (then cases needing it call `skip()`). */
  readonly clock: { set(ms: number): void } | undefined;
  readonly options: ConformanceOptions;
  /** A partition key unique to this case, so stores shared between runs never collide. */
  pk(name: string): string;
}

/** A fixed start time for settable clocks: Nov 2023, well inside epoch-ms range. */
const FIXED_T0 = 1_700_000_000_000;

/**
 * The one `OnlineStore` conformance suite. Every store (LMDB, DynamoDB, ...) runs it unchanged:
 *
 * ```ts
 * describeOnlineStoreConformance('lmdb', async () => { ... return { store, now: clock, cleanup } });
 * ```
 */
export function describeOnlineStoreConformance(
  name: string,
  factory: StoreFactory,
  options: ConformanceOptions = {},
): void {
  describe(`OnlineStore conformance: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    let t0 = 0;
    let prefix = '';

    const ctx: ConformanceContext = {
      get store() {
        if (current === undefined) throw new Error('no store: the factory failed');
        return current.store;
      },
      get t0() {
        return t0;
      },
      get clock() {
        return current?.now;
      },
      options,
      pk: (group) => `t${prefix}:${group.length}#${group}`,
    };

    beforeEach(async () => {
      current = await factory();
      prefix = randomUUID().slice(0, 8);
      if (current.now !== undefined) {
        t0 = FIXED_T0;
        current.now.set(t0);
      } else {
        t0 = Date.now();
      }
      await current.store.open();
    });

    afterEach(async () => {
      if (current === undefined) return;
      await current.store.close();
      await current.cleanup();
      current = undefined;
    });

    describe('static values', () => staticCases(ctx));
    describe('action rows', () => actionCases(ctx));
    describe('lifecycle', () => lifecycleCases(ctx));
    describe('vectors', () => vectorCases(ctx));
  });
}
