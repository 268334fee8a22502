import { describe, expect, it } from 'vitest';
import { KeyedScheduler } from '../../src/ingest/stream/keyed-scheduler.ts';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Item {
  key: string;
  seq: number;
}

function harness(limit: number, maxBatch: number, delay: (batch: Item[]) => number) {
  const order = new Map<string, number[]>();
  let running = 0;
  let peak = 0;
  const batches: Item[][] = [];
  const active = new Map<string, number>();
  let overlapSameKey = false;
  const scheduler = new KeyedScheduler<Item>({
    limit: () => limit,
    maxBatch,
    lanes: 64,
    run: async (batch) => {
      running += 1;
      peak = Math.max(peak, running);
      batches.push(batch);
      for (const item of batch) {
        if ((active.get(item.key) ?? 0) > 0 && !batch.every((b) => b.key !== item.key || b === item)) {
          // same key twice inside one batch is allowed (in order); across running batches is not
        }
      }
      const keys = new Set(batch.map((b) => b.key));
      for (const k of keys) {
        if ((active.get(k) ?? 0) > 0) overlapSameKey = true;
        active.set(k, (active.get(k) ?? 0) + 1);
      }
      await tick(delay(batch));
      for (const item of batch) order.set(item.key, [...(order.get(item.key) ?? []), item.seq]);
      for (const k of keys) active.set(k, (active.get(k) ?? 0) - 1);
      running -= 1;
    },
  });
  return { scheduler, order, batches, peak: () => peak, overlapSameKey: () => overlapSameKey };
}

describe('KeyedScheduler', () => {
  it('keeps per-key order, never runs one key in two batches at once, and respects the limit', async () => {
    const h = harness(4, 7, () => Math.floor(Math.random() * 3));
    const perKey = new Map<string, number>();
    for (let i = 0; i < 3000; i += 1) {
      const key = `k${(i * 7919) % 97}`;
      const seq = perKey.get(key) ?? 0;
      perKey.set(key, seq + 1);
      h.scheduler.push({ key, seq }, key);
      if (i % 500 === 0) await tick(1);
    }
    await h.scheduler.onIdle();
    expect(h.peak()).toBeLessThanOrEqual(4);
    expect(h.peak()).toBeGreaterThan(1);
    expect(h.overlapSameKey()).toBe(false);
    for (const [key, seqs] of h.order) {
      expect(seqs, key).toEqual(Array.from({ length: perKey.get(key)! }, (_, i) => i));
    }
    expect(h.batches.every((b) => b.length <= 7)).toBe(true);
  });

  it('runs different keys in parallel', async () => {
    const h = harness(8, 1, () => 20);
    for (let i = 0; i < 8; i += 1) h.scheduler.push({ key: `k${i}`, seq: 0 }, `k${i}`);
    await h.scheduler.onIdle();
    expect(h.peak()).toBe(8);
  });

  it('sizes micro-batches from the backlog so every slot gets work', async () => {
    const h = harness(4, 1000, () => 5);
    for (let i = 0; i < 400; i += 1) h.scheduler.push({ key: `k${i}`, seq: 0 }, `k${i}`);
    await h.scheduler.onIdle();
    // 400 queued over 4 slots: the first batch takes about 100, not all 400.
    expect(h.batches[0]!.length).toBeLessThanOrEqual(100);
    expect(h.peak()).toBe(4);
  });

  it('queues a whole fetch without starting, then cuts it over the free slots at once', async () => {
    const h = harness(4, 1000, () => 5);
    for (let i = 0; i < 400; i += 1) h.scheduler.push({ key: `k${i}`, seq: 0 }, `k${i}`, false);
    expect(h.scheduler.running).toBe(0);
    expect(h.scheduler.queued).toBe(400);
    h.scheduler.pump();
    // Pushing with `start` would have started the first item alone (1 queued over 4 slots). Here
    // every slot gets about a quarter (less only where a lane holds keys that share a hash).
    expect(h.batches).toHaveLength(4);
    expect(h.batches.map((b) => b.length).slice(0, 3)).toEqual([100, 100, 100]);
    expect(h.batches[3]!.length).toBeGreaterThan(50);
    await h.scheduler.onIdle();
    expect(h.batches.flat()).toHaveLength(400);
  });

  it('removes queued items on request', async () => {
    const h = harness(1, 1, () => 5);
    for (let i = 0; i < 10; i += 1) h.scheduler.push({ key: 'a', seq: i }, i % 2 === 0 ? 'a' : 'b');
    const removed = h.scheduler.remove((item) => item.seq >= 5);
    expect(removed).toBeGreaterThan(0);
    await h.scheduler.onIdle();
    const all = [...h.order.values()].flat();
    expect(all.every((s) => s < 5)).toBe(true);
    expect(all.length).toBe(10 - removed);
  });
});
