import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamodb/dynamodb-store.ts';
import type { ActionAppend } from '../../src/store/online-store.ts';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';
import { startChaosProxy, type ChaosProxy } from './support/chaos-proxy.ts';

const T0 = Date.now() - 3_600_000;

function appends(from: number, count: number, users: number): ActionAppend[] {
  return Array.from({ length: count }, (_, k) => {
    const n = from + k;
    return {
      kind: 'action',
      pk: `u:${n % users}#clicks`,
      row: { ts: T0 + n, eventId: `e${n}`, values: { n } },
      maxCount: 1_000,
      ttlMs: undefined,
      stableTs: true,
    };
  });
}

/**
 * DynamoDB (dynalite) behind a proxy that makes it slow and throttle: every write still lands,
 * exactly once, through the store's backoff; throttles are counted; and once the fault clears the
 * store is fast again.
 */
describe('DynamoDB slow and throttling', () => {
  let dynalite: DynaliteHandle;
  let proxy: ChaosProxy;
  let store: DynamoStore;
  beforeAll(async () => {
    dynalite = await startDynalite();
    const table = await dynalite.createTable();
    proxy = await startChaosProxy(dynalite.endpoint);
    store = new DynamoStore({ table, endpoint: proxy.endpoint, region: 'us-east-1' });
    await store.open();
  });
  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await dynalite?.close();
  });

  it('writes every row exactly once through 30% throttling and 40 ms of latency; fast again once it clears', async () => {
    const USERS = 20;
    proxy.delayMs = 40;
    proxy.throttleRate = 0.3;
    for (let batch = 0; batch < 10; batch++) await store.write(appends(batch * 50, 50, USERS));
    expect(proxy.throttled).toBeGreaterThan(0);
    expect(store.metrics.totals.throttled).toBeGreaterThan(0);

    proxy.delayMs = 0;
    proxy.throttleRate = 0;
    const started = performance.now();
    await store.write(appends(500, 50, USERS));
    expect(performance.now() - started).toBeLessThan(2_000);

    const ranges = await store.getRanges(
      Array.from({ length: USERS }, (_, u) => ({ pk: `u:${u}#clicks`, count: 1_000, lastNSec: undefined })),
    );
    const ids = ranges.flat().map((row) => row.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(550);
  }, 120_000);
});
