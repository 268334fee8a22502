import { expect, it } from 'vitest';
import type { ActionRow } from '../../src/store/online-store.ts';
import type { ConformanceContext } from './conformance.ts';
import { append } from './conformance-writes.ts';

const ids = (rows: readonly ActionRow[]): string[] => rows.map((r) => r.eventId);

/** Action rows: idempotent appends, newest-first ranges, count, lastNSec, maxCount, TTL. */
export function actionCases(ctx: ConformanceContext): void {
  it('reads newest first, whatever the order of the appends', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('recent_view_articles');
    await store.write([
      append(pk, t0 - 3000, 'e3', { article_id: 3 }),
      append(pk, t0 - 1000, 'e1', { article_id: 1 }),
      append(pk, t0 - 5000, 'e5', { article_id: 5 }),
    ]);
    await store.write([append(pk, t0 - 2000, 'e2', { article_id: 2 })]);
    const [rows] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
    expect(rows).toEqual([
      { ts: t0 - 1000, eventId: 'e1', values: { article_id: 1 } },
      { ts: t0 - 2000, eventId: 'e2', values: { article_id: 2 } },
      { ts: t0 - 3000, eventId: 'e3', values: { article_id: 3 } },
      { ts: t0 - 5000, eventId: 'e5', values: { article_id: 5 } },
    ]);
  });

  it('rows with the same ts and different event ids are all kept', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('clicks');
    await store.write(['a', 'b', 'c'].map((id) => append(pk, t0 - 10, id, { id })));
    const [rows = []] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
    expect(ids(rows).sort()).toEqual(['a', 'b', 'c']);
    expect(rows.every((r) => r.ts === t0 - 10)).toBe(true);
  });

  it('appending the same event id twice keeps one row, with the latest values', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('clicks');
    await store.write([append(pk, t0 - 100, 'dup', { v: 1 })]);
    await store.write([append(pk, t0 - 100, 'dup', { v: 2 })]);
    expect(await store.getRanges([{ pk, count: 10, lastNSec: undefined }])).toEqual([
      [{ ts: t0 - 100, eventId: 'dup', values: { v: 2 } }],
    ]);
  });

  it('a redelivered event with a different ts rewrites its row instead of adding one', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('clicks');
    await store.write([append(pk, t0 - 500, 'other', { v: 0 }), append(pk, t0 - 300, 'dup', { v: 1 })]);
    // Arrival time used as event time: the redelivery carries a later ts.
    await store.write([append(pk, t0 - 100, 'dup', { v: 2 })]);
    await store.write([append(pk, t0 - 900, 'dup', { v: 3 })]);
    const [rows] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
    expect(rows).toEqual([
      { ts: t0 - 500, eventId: 'other', values: { v: 0 } },
      { ts: t0 - 900, eventId: 'dup', values: { v: 3 } },
    ]);
  });

  it('one row per event id: the same id with another event time (stableTs) replaces its row', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('clicks');
    const stable = { maxCount: 3, stableTs: true };
    await store.write([
      append(pk, t0 - 500, 'other', { v: 0 }, stable),
      append(pk, t0 - 300, 'dup', { v: 1 }, stable),
    ]);
    // A producer reusing an event id with a corrected time: still one row, at the time written last.
    await store.write([append(pk, t0 - 100, 'dup', { v: 2 }, stable)]);
    await store.write([
      append(pk, t0 - 200, 'dup', { v: 3 }, stable),
      append(pk, t0 - 250, 'dup', { v: 4 }, stable),
    ]);
    const [rows] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
    expect(rows).toEqual([
      { ts: t0 - 250, eventId: 'dup', values: { v: 4 } },
      { ts: t0 - 500, eventId: 'other', values: { v: 0 } },
    ]);
    // It counted once: two more events fit under maxCount 3 without trimming 'other'.
    await store.write([append(pk, t0 - 50, 'new', {}, stable)]);
    const [after] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
    expect(ids(after ?? [])).toEqual(['new', 'dup', 'other']);
  });

  it('count limits the rows to the newest ones', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('clicks');
    await store.write(Array.from({ length: 20 }, (_, i) => append(pk, t0 - i * 1000, `e${i}`, { i })));
    const [three, none, all] = await store.getRanges([
      { pk, count: 3, lastNSec: undefined },
      { pk, count: 0, lastNSec: undefined },
      { pk, count: 50, lastNSec: undefined },
    ]);
    expect(ids(three ?? [])).toEqual(['e0', 'e1', 'e2']);
    expect(none).toEqual([]);
    expect(all).toHaveLength(20);
  });

  it('lastNSec keeps only rows with ts >= now - lastNSec*1000', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('searches');
    await store.write([
      append(pk, t0 - 5_000, 'recent', {}),
      append(pk, t0 - 60_000, 'minute', {}),
      append(pk, t0 - 3_600_000, 'hour', {}),
      append(pk, t0 - 7 * 86_400_000, 'week', {}),
    ]);
    const [a, b, c] = await store.getRanges([
      { pk, count: 10, lastNSec: 30 },
      { pk, count: 10, lastNSec: 7200 },
      { pk, count: 1, lastNSec: 7200 },
    ]);
    expect(ids(a ?? [])).toEqual(['recent']);
    expect(ids(b ?? [])).toEqual(['recent', 'minute', 'hour']);
    expect(ids(c ?? [])).toEqual(['recent']);
  });

  it('lastNSec includes a row exactly at the boundary', async (test) => {
    const { store, t0, clock } = ctx;
    if (clock === undefined) return test.skip();
    const pk = ctx.pk('searches');
    await store.write([append(pk, t0 - 10_000, 'edge', {}), append(pk, t0 - 10_001, 'out', {})]);
    const [rows] = await store.getRanges([{ pk, count: 10, lastNSec: 10 }]);
    expect(ids(rows ?? [])).toEqual(['edge']);
  });

  it('keeps at most maxCount rows per key, dropping the oldest', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('clicks');
    const older = Array.from({ length: 8 }, (_, i) =>
      append(pk, t0 - 100 + i, `e${i}`, { i }, { maxCount: 5 }),
    );
    await store.write(older);
    await store.write([append(pk, t0 - 50, 'e8', { i: 8 }, { maxCount: 5 })]);
    // Older than every kept row: stored then trimmed at once.
    await store.write([append(pk, t0 - 1000, 'ancient', {}, { maxCount: 5 })]);
    const [rows] = await store.getRanges([{ pk, count: 100, lastNSec: undefined }]);
    expect(ids(rows ?? [])).toEqual(['e8', 'e7', 'e6', 'e5', 'e4']);
    // Redelivering a kept event does not count as a new row.
    await store.write([append(pk, t0 - 96, 'e4', { i: 4 }, { maxCount: 5 })]);
    const [again] = await store.getRanges([{ pk, count: 100, lastNSec: undefined }]);
    expect(ids(again ?? [])).toEqual(['e8', 'e7', 'e6', 'e5', 'e4']);
  });

  it('event-time rows (stableTs): a redelivery keeps one row and does not count twice', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('clicks');
    const stable = { maxCount: 3, stableTs: true };
    await store.write([
      append(pk, t0 - 30, 'a', { v: 1 }, stable),
      append(pk, t0 - 20, 'b', { v: 1 }, stable),
      append(pk, t0 - 10, 'c', { v: 1 }, stable),
    ]);
    // Redelivered twice, once in the same batch: still three rows, none trimmed.
    await store.write([
      append(pk, t0 - 30, 'a', { v: 2 }, stable),
      append(pk, t0 - 30, 'a', { v: 3 }, stable),
    ]);
    const [rows] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
    expect(rows).toEqual([
      { ts: t0 - 10, eventId: 'c', values: { v: 1 } },
      { ts: t0 - 20, eventId: 'b', values: { v: 1 } },
      { ts: t0 - 30, eventId: 'a', values: { v: 3 } },
    ]);
    // A new event trims the oldest; a redelivery of the trimmed one is stored and trimmed at once.
    await store.write([append(pk, t0 - 5, 'd', {}, stable)]);
    await store.write([append(pk, t0 - 30, 'a', {}, stable)]);
    const [after] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
    expect(ids(after ?? [])).toEqual(['d', 'c', 'b']);
  });

  it('event-time and arrival-time rows share one key: trimming and redelivery stay exact', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('clicks');
    await store.write([
      append(pk, t0 - 50, 's1', {}, { maxCount: 4, stableTs: true }),
      append(pk, t0 - 40, 'r1', {}, { maxCount: 4 }),
      append(pk, t0 - 30, 's2', {}, { maxCount: 4, stableTs: true }),
      append(pk, t0 - 20, 'r2', {}, { maxCount: 4 }),
    ]);
    // The arrival-time event comes again later: its row moves, the count stays at four.
    await store.write([append(pk, t0 - 15, 'r1', {}, { maxCount: 4 })]);
    const [moved] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
    expect(ids(moved ?? [])).toEqual(['r1', 'r2', 's2', 's1']);
    await store.write([
      append(pk, t0 - 10, 's3', {}, { maxCount: 4, stableTs: true }),
      append(pk, t0 - 5, 'r3', {}, { maxCount: 4 }),
    ]);
    const [trimmed] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
    expect(ids(trimmed ?? [])).toEqual(['r3', 's3', 'r1', 'r2']);
  });

  it('TTL: expired rows are never returned, and the read goes on past them', async (test) => {
    const { store, t0, clock } = ctx;
    if (clock === undefined) return test.skip();
    const pk = ctx.pk('clicks');
    await store.write([
      append(pk, t0 - 30, 'keep_old', {}), // no TTL
      append(pk, t0 - 20, 'keep', {}, { ttlMs: 60_000 }),
      append(pk, t0 - 10, 'short1', {}, { ttlMs: 1000 }),
      append(pk, t0, 'short2', {}, { ttlMs: 1000 }),
    ]);
    const read = async () => ids((await store.getRanges([{ pk, count: 2, lastNSec: undefined }]))[0] ?? []);
    expect(await read()).toEqual(['short2', 'short1']);
    clock.set(t0 + 995); // short1 expires at t0 + 990
    expect(await read()).toEqual(['short2', 'keep']);
    clock.set(t0 + 1000);
    expect(await read()).toEqual(['keep', 'keep_old']);
    clock.set(t0 + 61_000);
    expect(await read()).toEqual(['keep_old']);
  });

  it('batch range reads across many keys, in order, with [] for absent keys', async () => {
    const { store, t0 } = ctx;
    const pks = Array.from({ length: 30 }, (_, i) => ctx.pk(`user_${i}`));
    await store.write(
      pks.flatMap((pk, n) =>
        n % 4 === 0 ? [] : Array.from({ length: n % 5 }, (_, j) => append(pk, t0 - j, `${n}_${j}`, { n, j })),
      ),
    );
    const read = await store.getRanges(pks.map((pk) => ({ pk, count: 3, lastNSec: undefined })));
    expect(read).toHaveLength(pks.length);
    read.forEach((rows, n) => {
      const expected = n % 4 === 0 ? 0 : Math.min(3, n % 5);
      expect(ids(rows)).toEqual(Array.from({ length: expected }, (_, j) => `${n}_${j}`));
    });
  });

  it('one batch applies appends to the same key in array order', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('clicks');
    await store.write([
      append(pk, t0 - 10, 'x', { v: 1 }, { maxCount: 2 }),
      append(pk, t0 - 20, 'x', { v: 2 }, { maxCount: 2 }),
      append(pk, t0 - 5, 'y', { v: 3 }, { maxCount: 2 }),
      append(pk, t0 - 1, 'z', { v: 4 }, { maxCount: 2 }),
    ]);
    const [rows] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
    expect(rows).toEqual([
      { ts: t0 - 1, eventId: 'z', values: { v: 4 } },
      { ts: t0 - 5, eventId: 'y', values: { v: 3 } },
    ]);
  });
}
