import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLmdbEnv, type LmdbEnv, type RowKey } from '../../src/store/lmdb/lmdb-env.ts';
import { MAX_TS } from '../../src/store/lmdb/lmdb-rows.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import type { ActionAppend } from '../../src/store/online-store.ts';
import { append } from './conformance-writes.ts';
import { manualClock } from './manual-clock.ts';

/** A deterministic PRNG, so a failing sequence replays. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The reference model: what a pk must hold after a sequence of appends and purges. */
class ModelPk {
  rows = new Map<string, { ts: number; expiresAt: number | null; v: number }>();
  apply(a: ActionAppend): void {
    this.rows.set(a.row.eventId, {
      ts: a.row.ts,
      expiresAt: a.ttlMs === undefined ? null : a.row.ts + a.ttlMs,
      v: a.row.values.v as number,
    });
    const sorted = this.sorted();
    for (const [id] of sorted.slice(0, Math.max(0, sorted.length - a.maxCount))) this.rows.delete(id);
  }
  purge(now: number): void {
    for (const [id, r] of this.rows) if (r.expiresAt !== null && r.expiresAt <= now) this.rows.delete(id);
  }
  /** Oldest first, in LMDB key order (ids here are ASCII, so JS order matches). */
  sorted(): [string, { ts: number; v: number }][] {
    return [...this.rows]
      .sort(([ia, a], [ib, b]) => a.ts - b.ts || (ia < ib ? -1 : ia > ib ? 1 : 0))
      .map(([id, r]) => [id, { ts: r.ts, v: r.v }]);
  }
}

describe('LMDB rows against a reference model', () => {
  let dir: string;
  let env: LmdbEnv;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'larder-rows-'));
    env = openLmdbEnv(dir);
  });
  afterEach(async () => {
    await env.close();
    await rm(dir, { recursive: true, force: true });
  });

  // `arrival`: every ts is the arrival time (a redelivery may move its row). `mixed`: even event ids
  // carry their own time (stableTs: a redelivery has the same ts).
  for (const [seed, mode] of [
    [1, 'arrival'],
    [2, 'arrival'],
    [3, 'arrival'],
    [4, 'mixed'],
    [5, 'mixed'],
  ] as const) {
    it(`random appends, redeliveries, out-of-order rows and purges keep every invariant (seed ${seed}, ${mode} ts)`, async () => {
      const rand = prng(seed);
      const clock = manualClock();
      const t0 = clock.now();
      const store = new LmdbStore(env, { now: clock.now, purgeBatchSize: 50 });
      await store.open();
      const pks = ['a', 'b', 'c'];
      const models = new Map(pks.map((pk) => [pk, new ModelPk()]));
      let nextId = 0;
      const ownTs = new Map<string, number>();
      const stable = (id: string): boolean => mode === 'mixed' && Number(id.slice(1)) % 2 === 0;
      for (let round = 0; round < 60; round++) {
        const maxCount = rand() < 0.8 ? 25 : 10 + Math.floor(rand() * 30);
        const batch: ActionAppend[] = [];
        for (let i = 0; i < 20; i++) {
          const pk = pks[Math.floor(rand() * pks.length)] as string;
          const redeliver = rand() < 0.2 && nextId > 0;
          const id = redeliver ? `e${Math.floor(rand() * nextId)}` : `e${nextId++}`;
          // Mostly recent, sometimes far out of order, sometimes colliding on ts.
          const fresh =
            t0 + round * 100 + (rand() < 0.2 ? -Math.floor(rand() * 5000) : Math.floor(rand() * 3));
          // An event-time event keeps its first ts (and, like a real event, its key).
          const ts = stable(id) ? (ownTs.get(`${pk}/${id}`) ?? fresh) : fresh;
          if (stable(id)) ownTs.set(`${pk}/${id}`, ts);
          const ttlMs = rand() < 0.3 ? 1 + Math.floor(rand() * 3000) : undefined;
          batch.push(append(pk, ts, id, { v: round * 100 + i }, { maxCount, ttlMs, stableTs: stable(id) }));
        }
        await store.write(batch);
        for (const a of batch) models.get(a.pk)?.apply(a);
        if (round % 7 === 6) {
          clock.set(t0 + round * 100);
          for (let i = 0; i < 5; i++) await store.purgeExpired(clock.now());
          for (const m of models.values()) m.purge(clock.now());
        }
        for (const pk of pks) {
          const model = models.get(pk) as ModelPk;
          const stored = [...env.rows.getRange({ start: [pk], end: [pk, MAX_TS] })].map(
            ({ key, value }) => [(key as RowKey)[2], { ts: (key as RowKey)[1], v: value[1].v }] as const,
          );
          expect(stored).toEqual(model.sorted());
          const meta = env.rowMeta.get(pk);
          expect(meta?.[0] ?? 0).toBe(stored.length);
          // The oldest-rows hint is a prefix of the rows.
          const hint = (meta?.[1] ?? []).map((ts, i) => [meta?.[2][i], ts]);
          expect(hint).toEqual(stored.slice(0, hint.length).map(([id, r]) => [id, r.ts]));
          for (const [id, r] of stored) expect(env.dedupe.get([pk, id])).toBe(r.ts);
        }
        const rows = [...models.values()].reduce((n, m) => n + m.rows.size, 0);
        expect(env.dedupe.getKeysCount()).toBe(rows);
      }
    });
  }
});

describe('LMDB row metas in a batch', () => {
  it('a batch saves each pk meta once, after every append and trim of the batch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'larder-rows-'));
    const env = openLmdbEnv(dir);
    try {
      const store = new LmdbStore(env);
      await store.open();
      const t0 = Date.now();
      const realPut = env.rowMeta.putSync.bind(env.rowMeta);
      const metaPuts: string[] = [];
      env.rowMeta.putSync = ((pk: string, ...rest: unknown[]) => {
        metaPuts.push(pk);
        return (realPut as (...args: unknown[]) => unknown)(pk, ...rest);
      }) as typeof env.rowMeta.putSync;
      // 60 appends to `a` (trimmed to 25 inside the batch, the hint refilled on the way), with a
      // redelivery of an event-time row and of an arrival-time row, and 3 appends to `b`.
      const batch: ActionAppend[] = [];
      for (let i = 0; i < 60; i++)
        batch.push(append('a', t0 + i, `e${i}`, { v: i }, { maxCount: 25, stableTs: i % 2 === 0 }));
      batch.push(append('a', t0 + 58, 'e58', { v: 580 }, { maxCount: 25, stableTs: true }));
      batch.push(append('a', t0 + 70, 'e59', { v: 590 }, { maxCount: 25 }));
      for (let i = 0; i < 3; i++) batch.push(append('b', t0 + i, `b${i}`, { v: i }, { maxCount: 25 }));
      await store.write(batch);
      expect(metaPuts.sort()).toEqual(['a', 'b']);
      const rows = [...env.rows.getRange({ start: ['a'], end: ['a', MAX_TS] })].map(({ key, value }) => [
        (key as RowKey)[2],
        value[1].v,
      ]);
      const expected: [string, number][] = [];
      for (let i = 35; i < 59; i++) expected.push([`e${i}`, i === 58 ? 580 : i]);
      expected.push(['e59', 590]); // moved to its new arrival time
      expect(rows).toEqual(expected);
      expect(env.rowMeta.get('a')?.[0]).toBe(25);
      expect(env.rowMeta.get('b')?.[0]).toBe(3);
      // A later single append still reads the saved meta and trims from it.
      await store.write([append('a', t0 + 100, 'e100', { v: 100 }, { maxCount: 25 })]);
      expect(env.rowMeta.get('a')?.[0]).toBe(25);
      expect(env.rows.get(['a', t0 + 35, 'e35'])).toBeUndefined();
      await store.close();
    } finally {
      await env.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an event-time row stored without a dedupe entry (by an earlier Larder) is rewritten, not doubled', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'larder-rows-'));
    const env = openLmdbEnv(dir);
    try {
      const store = new LmdbStore(env);
      await store.open();
      const t0 = Date.now();
      await store.write([append('p', t0 - 20, 'x', { v: 1 }, { maxCount: 2, stableTs: true })]);
      // What the earlier code left behind: the row and its count, no dedupe entry.
      await env.root.transaction(() => env.dedupe.removeSync(['p', 'x']));
      await store.write([append('p', t0 - 20, 'x', { v: 2 }, { maxCount: 2, stableTs: true })]);
      await store.write([append('p', t0 - 10, 'y', { v: 3 }, { maxCount: 2, stableTs: true })]);
      const [rows] = await store.getRanges([{ pk: 'p', count: 10, lastNSec: undefined }]);
      expect(rows?.map((r) => [r.eventId, r.values.v])).toEqual([
        ['y', 3],
        ['x', 2],
      ]);
      expect(env.rowMeta.get('p')?.[0]).toBe(2);
      expect(env.dedupe.get(['p', 'x'])).toBe(t0 - 20);
      await store.close();
    } finally {
      await env.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
