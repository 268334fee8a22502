import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheMetrics } from '../../src/cache/cache-metrics.ts';
import { createLayeredStore } from '../../src/cache/layered-store.ts';
import { LocalCacheLevel } from '../../src/cache/local-level.ts';
import { RedisCacheLevel } from '../../src/cache/redis-level.ts';
import { compareRows } from '../../src/cache/row-order.ts';
import { DynamoStore } from '../../src/store/dynamodb/dynamodb-store.ts';
import type { ActionRow, OnlineStore, StoreWrite } from '../../src/store/online-store.ts';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';
import {
  addKeyword,
  cacheRegistry,
  click,
  namespace,
  single,
  tempLmdbStore,
  userId,
} from './cache-fixtures.ts';

const REDIS_URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WRITERS = 8;
const WRITES_EACH = 25;
const READERS = 8;
const MAX_COUNT = 20;

let dyn: DynaliteHandle;
beforeAll(async () => {
  dyn = await startDynalite();
});
afterAll(async () => {
  await dyn.close();
});

const stores: Record<string, () => Promise<{ store: OnlineStore; cleanup(): Promise<void> }>> = {
  lmdb: () => tempLmdbStore(),
  dynamodb: async () => ({
    store: new DynamoStore({ table: await dyn.createTable(), endpoint: dyn.endpoint }),
    cleanup: async () => {},
  }),
};

/**
 * One action key, one single-value key and one set key, hammered by parallel writers and readers
 * through the layered store (local + Redis). A logical clock orders "write finished" and "read
 * started", which is what a state that existed means here:
 * - a read never misses a write that finished before it started (no stale state), and
 * - a read never shows anything that was not written (no invented state).
 */
describe.each(Object.keys(stores))('concurrency on one key, caches on (%s)', (kind) => {
  it('every read sees a state that existed; afterwards the cache equals the store', async () => {
    const { store: raw, cleanup } = await (stores[kind] as (typeof stores)['lmdb'])();
    const metrics = new CacheMetrics();
    const local = new LocalCacheLevel({ maxBytes: 1 << 20, admission: 'always' });
    const redis = new RedisCacheLevel({ url: REDIS_URL, namespace: namespace(), metrics });
    const layered = createLayeredStore({
      store: raw,
      registry: await cacheRegistry(),
      local,
      redis,
      metrics,
    });
    await layered.open();
    const u = userId();
    const clicksPk = `u:${u}#clicks`;
    const regionPk = `u:${u}#region`;
    const keywordsPk = `u:${u}#keywords`;

    let tick = 0;
    const written = new Map<string, ActionRow>(); // every row a writer started to write
    const rowDone = new Map<string, number>(); // eventId -> tick its write finished
    const regionDone: { ts: number; at: number }[] = [];
    const keywordDone = new Map<string, number>();
    const startedRegion = new Set<number>();
    const startedKeywords = new Set<string>();
    const problems: string[] = [];

    // Distinct timestamps shuffled across writers, so appends arrive out of order.
    const total = WRITERS * WRITES_EACH;
    const tsPool = Array.from({ length: total }, (_, i) => 1_000 + i).sort(() => Math.random() - 0.5);
    let writing = true;

    const writer = async (w: number) => {
      for (let k = 0; k < WRITES_EACH; k++) {
        const ts = tsPool[w * WRITES_EACH + k] as number;
        const eventId = `w${w}k${k}`;
        const row: ActionRow = { ts, eventId, values: { article_id: ts } };
        const keyword = `kw${w}_${k}`;
        written.set(eventId, row);
        startedRegion.add(ts);
        startedKeywords.add(keyword);
        const batch: StoreWrite[] = [click(clicksPk, ts, eventId, ts, MAX_COUNT), single(regionPk, ts, ts)];
        if (k % 5 === 0) batch.push(addKeyword(keywordsPk, keyword, ts));
        await layered.write(batch);
        const at = ++tick;
        rowDone.set(eventId, at);
        regionDone.push({ ts, at });
        if (k % 5 === 0) keywordDone.set(keyword, at);
      }
    };

    const checkRows = (rows: ActionRow[], startedAt: number) => {
      const sorted = [...rows].sort(compareRows);
      if (JSON.stringify(sorted) !== JSON.stringify(rows)) problems.push('rows out of order');
      if (new Set(rows.map((r) => r.eventId)).size !== rows.length) problems.push('duplicate rows');
      if (rows.length > MAX_COUNT) problems.push(`more than maxCount rows: ${rows.length}`);
      for (const r of rows) {
        const w = written.get(r.eventId);
        if (w === undefined || w.ts !== r.ts) problems.push(`invented row ${r.eventId}`);
      }
      // Every row finished before this read started, and newer than the oldest row the read
      // shows (when the read is a full window), must be there.
      const floor = rows.length === MAX_COUNT ? (rows[rows.length - 1] as ActionRow).ts : -Infinity;
      const shown = new Set(rows.map((r) => r.eventId));
      for (const [eventId, at] of rowDone) {
        if (at >= startedAt) continue;
        const row = written.get(eventId) as ActionRow;
        if (row.ts > floor && !shown.has(eventId)) problems.push(`stale read: missing ${eventId}`);
      }
    };

    const reader = async () => {
      while (writing) {
        // Local hits resolve without I/O; yield so the writers' I/O is not starved.
        await new Promise((resolve) => setImmediate(resolve));
        const startedAt = tick + 0.5;
        const [[rows], [region, keywords]] = await Promise.all([
          layered.getRanges([{ pk: clicksPk, count: MAX_COUNT, lastNSec: undefined }]),
          layered.getStatic([regionPk, keywordsPk]),
        ]);
        checkRows(rows ?? [], startedAt);
        const needTs = Math.max(-Infinity, ...regionDone.filter((d) => d.at < startedAt).map((d) => d.ts));
        if (region !== undefined) {
          if (!startedRegion.has(region.value as number))
            problems.push(`invented region ${String(region.value)}`);
          if ((region.value as number) < needTs)
            problems.push(`stale region ${String(region.value)} < ${needTs}`);
        } else if (needTs > -Infinity) {
          problems.push('region vanished');
        }
        const members = new Set((keywords?.value as string[] | undefined) ?? []);
        for (const m of members) if (!startedKeywords.has(m)) problems.push(`invented keyword ${m}`);
        for (const [kw, at] of keywordDone)
          if (at < startedAt && !members.has(kw)) problems.push(`stale keywords: ${kw}`);
      }
    };

    const readers = Array.from({ length: READERS }, reader);
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    writing = false;
    await Promise.all(readers);
    await layered.idle();
    expect(problems.slice(0, 10)).toEqual([]);
    expect(metrics.level('local').hits).toBeGreaterThan(0);

    // The store's final state, and what each level holds: a level may not hold a key, but what it
    // holds must equal the store.
    const [storeRows] = await raw.getRanges([{ pk: clicksPk, count: MAX_COUNT, lastNSec: undefined }]);
    const [storeRegion, storeKeywords] = await raw.getStatic([regionPk, keywordsPk]);
    expect(storeRows).toHaveLength(MAX_COUNT);
    expect(storeRegion?.value).toBe(1_000 + total - 1);
    const lookup = { pk: clicksPk, count: MAX_COUNT, minTs: -Infinity, expiredAtOrBefore: -Infinity };
    const request = { statics: [regionPk, keywordsPk], ranges: [lookup] };
    const levels = [local.readNow(request, Date.now()), await redis.read(request, Date.now())];
    let held = 0;
    for (const level of levels) {
      if (level.ranges[0] !== undefined) {
        held++;
        expect(level.ranges[0].rows).toEqual(storeRows);
      }
      if (level.statics[0] !== undefined) {
        held++;
        expect(level.statics[0].value).toEqual(storeRegion);
      }
      if (level.statics[1] !== undefined) expect(level.statics[1].value).toEqual(storeKeywords);
    }
    expect(held).toBeGreaterThan(0);
    // And a read through the layers answers what the store answers.
    expect(await layered.getRanges([{ pk: clicksPk, count: MAX_COUNT, lastNSec: undefined }])).toEqual([
      storeRows,
    ]);
    expect(await layered.getStatic([regionPk, keywordsPk])).toEqual([storeRegion, storeKeywords]);
    await layered.close();
    await cleanup();
  }, 120_000);
});
