import { expect, it } from 'vitest';
import type { ConformanceContext } from './conformance.ts';
import { addMember, append, setSingle } from './conformance-writes.ts';

/** Purging, empty batches, ping and close. */
export function lifecycleCases(ctx: ConformanceContext): void {
  it('empty batches are no-ops', async () => {
    const { store } = ctx;
    await store.write([]);
    expect(await store.getStatic([])).toEqual([]);
    expect(await store.getRanges([])).toEqual([]);
  });

  it('purgeExpired removes expired data and leaves live data and maxCount bookkeeping intact', async (test) => {
    const { store, t0, clock } = ctx;
    if (clock === undefined) return test.skip();
    const rowsPk = ctx.pk('clicks');
    const livePk = ctx.pk('live');
    const gonePk = ctx.pk('gone');
    await store.write([
      ...Array.from({ length: 3 }, (_, i) =>
        append(rowsPk, t0 - i, `short${i}`, {}, { ttlMs: 1000, maxCount: 4 }),
      ),
      append(rowsPk, t0 - 10, 'long', {}, { ttlMs: 100_000, maxCount: 4 }),
      setSingle(livePk, 'stays', t0),
      setSingle(gonePk, 'goes', t0, { ttlMs: 1000 }),
    ]);
    clock.set(t0 + 5000);
    const removed = await store.purgeExpired(t0 + 5000);
    if (ctx.options.purgeReportsCount !== false) expect(removed).toBe(4);
    else expect(removed).toBeGreaterThanOrEqual(0);
    expect((await store.getStatic([livePk, gonePk])).map((v) => v?.value)).toEqual(['stays', undefined]);
    const [rows] = await store.getRanges([{ pk: rowsPk, count: 10, lastNSec: undefined }]);
    expect(rows?.map((r) => r.eventId)).toEqual(['long']);
    // After the purge the key must still hold up to maxCount rows: three new rows fit beside 'long'.
    await store.write(
      Array.from({ length: 3 }, (_, i) => append(rowsPk, t0 + 5000 + i, `new${i}`, {}, { maxCount: 4 })),
    );
    const [after] = await store.getRanges([{ pk: rowsPk, count: 10, lastNSec: undefined }]);
    expect(after?.map((r) => r.eventId)).toEqual(['new2', 'new1', 'new0', 'long']);
    if (ctx.options.purgeReportsCount !== false) expect(await store.purgeExpired(t0 + 5000)).toBe(0);
  });

  it('a write is readable as soon as it resolves', async () => {
    const { store, t0 } = ctx;
    const kw = ctx.pk('kw');
    for (let i = 0; i < 5; i++) {
      await store.write([addMember(kw, i, t0 + i)]);
      expect((await store.getStatic([kw]))[0]?.value).toHaveLength(i + 1);
    }
  });

  it('concurrent write batches all land', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('clicks');
    await Promise.all(
      Array.from({ length: 20 }, (_, b) =>
        store.write(Array.from({ length: 5 }, (_, i) => append(pk, t0 - b * 10 - i, `b${b}_${i}`, {}))),
      ),
    );
    const [rows] = await store.getRanges([{ pk, count: 100, lastNSec: undefined }]);
    expect(rows).toHaveLength(100);
    const ts = rows?.map((r) => r.ts) ?? [];
    expect([...ts].sort((a, b) => b - a)).toEqual(ts);
  });

  it('ping answers while open; close is idempotent; a closed store refuses work', async () => {
    const { store, t0 } = ctx;
    expect(await store.ping()).toBe(true);
    await store.close();
    await store.close();
    expect(await store.ping()).toBe(false);
    await expect(store.write([setSingle(ctx.pk('x'), 1, t0)])).rejects.toThrow();
    await expect(store.getStatic([ctx.pk('x')])).rejects.toThrow();
    await expect(store.getRanges([{ pk: ctx.pk('x'), count: 1, lastNSec: undefined }])).rejects.toThrow();
  });
}
