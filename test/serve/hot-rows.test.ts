import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { HotEntityCache } from '../../src/serve/hot-entities.ts';
import { HotRowCache } from '../../src/serve/hot-rows.ts';
import type { ActionRow } from '../../src/store/online-store.ts';

const rowsOf = (pk: string, n: number, newest: number, step = 1_000): ActionRow[] =>
  Array.from({ length: n }, (_, i) => ({ ts: newest - i * step, eventId: `${pk}-${i}`, values: { a: i } }));

/** The hot row cache on its own: lifetimes, forgetting, windows, refreshes, bounds. */
describe('HotRowCache', () => {
  const ttlMs = 10_000;
  const now = 1_000_000_000;

  it('serves a list until its TTL, per count, and not after', () => {
    const hot = new HotRowCache({ ttlMs });
    const rows = rowsOf('u:1#v', 5, now);
    expect(hot.set('u:1#v', 5, rows, now, hot.epoch, undefined)).toBe(rows);
    expect(hot.get('u:1#v', 5, undefined, now + 1)).toBe(rows);
    expect(hot.get('u:1#v', 3, undefined, now + 1)).toBeUndefined(); // another count: not held
    expect(hot.get('u:1#v', 5, undefined, now + ttlMs)).toBeUndefined();
  });

  it('forgets every list on forgetAll, and keeps out a read that started before it', () => {
    const hot = new HotRowCache({ ttlMs });
    hot.set('u:1#v', 5, rowsOf('u:1#v', 5, now), now, hot.epoch, undefined);
    const readEpoch = hot.epoch;
    hot.forgetAll();
    expect(hot.get('u:1#v', 5, undefined, now + 1)).toBeUndefined();
    expect(hot.set('u:1#v', 5, rowsOf('u:1#v', 5, now), now + 2, readEpoch, undefined)).toBeUndefined();
    const fresh = rowsOf('u:1#v', 5, now + 3);
    expect(hot.set('u:1#v', 5, fresh, now + 3, hot.epoch, undefined)).toBe(fresh);
  });

  it('cuts a held list to a lastNSec window as the store does (the window start included)', () => {
    const hot = new HotRowCache({ ttlMs });
    hot.set('u:1#v', 5, rowsOf('u:1#v', 5, now), now, hot.epoch, undefined);
    expect(hot.get('u:1#v', 5, 2, now)!.map((r) => r.ts)).toEqual([now, now - 1_000, now - 2_000]);
    expect(hot.get('u:1#v', 5, 0, now + 1)).toEqual([]);
  });

  it('never serves a row past its own TTL', () => {
    const hot = new HotRowCache({ ttlMs });
    // The oldest row expires 3 s from now (row TTL 7 s, written 4 s ago).
    hot.set('u:1#v', 5, rowsOf('u:1#v', 5, now, 1_000), now, hot.epoch, 3_000 + 4_000);
    expect(hot.get('u:1#v', 5, undefined, now + 2_999)).toBeDefined();
    expect(hot.get('u:1#v', 5, undefined, now + 3_000)).toBeUndefined();
  });

  it('forgets a pk at once, and keeps out a read that started before the forget', () => {
    const hot = new HotRowCache({ ttlMs });
    hot.set('u:1#v', 5, rowsOf('u:1#v', 5, now), now, hot.epoch, undefined);
    const racingRead = hot.epoch;
    hot.forget('u:1#v', now + 1);
    expect(hot.get('u:1#v', 5, undefined, now + 2)).toBeUndefined();
    expect(hot.set('u:1#v', 5, rowsOf('u:1#v', 5, now), now + 3, racingRead, undefined)).toBeUndefined();
    expect(hot.get('u:1#v', 5, undefined, now + 4)).toBeUndefined();
    expect(hot.set('u:1#v', 5, rowsOf('u:1#v', 5, now), now + 5, hot.epoch, undefined)).toBeDefined();
  });

  it('keeps the held rows when a refresh read the same rows, and replaces them when not', () => {
    const hot = new HotRowCache({ ttlMs });
    const first = rowsOf('u:1#v', 5, now);
    hot.set('u:1#v', 5, first, now, hot.epoch, undefined);
    const same = rowsOf('u:1#v', 5, now);
    expect(hot.set('u:1#v', 5, same, now + ttlMs, hot.epoch, undefined)).toBe(first);
    expect(hot.get('u:1#v', 5, undefined, now + ttlMs + 1)).toBe(first); // life extended
    const changed = rowsOf('u:1#v', 5, now);
    changed[2] = { ...changed[2]!, values: { a: 'rewritten' } };
    expect(hot.set('u:1#v', 5, changed, now + ttlMs + 2, hot.epoch, undefined)).toBe(changed);
    expect(hot.get('u:1#v', 5, undefined, now + ttlMs + 3)).toBe(changed);
  });
});

/** Heap in use after a full GC, bytes. */
function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * A scan of 1M distinct ids through the hot caches (every id read once, as a crawler or a batch
 * scorer would): what they hold stays within their bounds, and a second scan of 1M other ids
 * adds next to nothing to the heap (it plateaus instead of growing with the ids seen).
 */
describe('hot caches under a scan of 1M distinct ids', () => {
  const now = 1_000_000_000;
  const scan = (from: number, step: (id: string) => void): void => {
    for (let i = from; i < from + 1_000_000; i++) step(String(i));
  };

  it('the hot entity cache holds at most its entries per entity type', () => {
    const hot = new HotEntityCache({ ttlMs: 60_000, maxEntries: 100_000 });
    const base = heapAfterGc();
    scan(0, (id) => hot.set('article', { id, title: `t${id}`, price: 1 }, true, now));
    expect(hot.size).toBeLessThanOrEqual(100_000);
    const afterFirst = heapAfterGc() - base;
    scan(1_000_000, (id) => hot.set('article', { id, title: `t${id}`, price: 1 }, true, now));
    expect(hot.size).toBeLessThanOrEqual(100_000);
    const afterSecond = heapAfterGc() - base;
    expect(afterSecond).toBeLessThan(afterFirst * 1.2 + 8 * 2 ** 20);
    // 100k small entries: tens of MB, not the hundreds 1M would take.
    expect(afterSecond).toBeLessThan(100 * 2 ** 20);
  }, 60_000);

  it('the hot row cache holds at most its rows', () => {
    const hot = new HotRowCache({ ttlMs: 60_000, maxRows: 200_000 });
    const rows = (id: string): ActionRow[] => [
      { ts: now, eventId: `${id}-0`, values: { article_id: 1 } },
      { ts: now - 1, eventId: `${id}-1`, values: { article_id: 2 } },
    ];
    const base = heapAfterGc();
    scan(0, (id) => hot.set(`u:${id}#v`, 2, rows(id), now, hot.epoch, undefined));
    expect(hot.size).toBeLessThanOrEqual(200_000);
    const afterFirst = heapAfterGc() - base;
    scan(1_000_000, (id) => hot.set(`u:${id}#v`, 2, rows(id), now, hot.epoch, undefined));
    expect(hot.size).toBeLessThanOrEqual(200_000);
    const afterSecond = heapAfterGc() - base;
    expect(afterSecond).toBeLessThan(afterFirst * 1.2 + 8 * 2 ** 20);
    expect(afterSecond).toBeLessThan(150 * 2 ** 20);
  }, 60_000);
});
