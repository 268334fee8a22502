import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Claim, InvocationQueue } from '../../src/enrich/invocation-queue.ts';
import { waitUntil } from '../support/wait-until.ts';

/**
 * The one suite every invocation queue engine must pass (see the contract in
 * src/enrich/invocation-queue.ts), run against LMDB and BullMQ on real storage.
 */
export interface QueueHarness {
  /** Opens a queue on the shared backing storage; several opens act like several processes. */
  open(): Promise<InvocationQueue>;
  /** Removes what the suite left behind. */
  cleanup(): Promise<void>;
  /** Succeeded invocations are removed by `purge` (LMDB); BullMQ removes them itself, by age. */
  readonly purges: boolean;
}

export function describeQueueConformance(name: string, harness: () => Promise<QueueHarness>): void {
  describe(`invocation queue conformance: ${name}`, { timeout: 60_000 }, () => {
    let h: QueueHarness;
    let queue: InvocationQueue;
    const opened: InvocationQueue[] = [];
    /** A fresh enricher name per test, so tests never see each other's invocations. */
    const enricher = (): string => `e_${randomUUID().slice(0, 8)}`;
    const put = (e: string, n: number, prefix = 'i') =>
      queue.put(
        e,
        Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, input: { n: i } })),
      );

    beforeAll(async () => {
      h = await harness();
      queue = await h.open();
      opened.push(queue);
    });

    afterAll(async () => {
      for (const q of opened) await q.close();
      await h.cleanup();
    });

    it('hands out what was put, each under a lease, and counts the attempt', async () => {
      const e = enricher();
      await put(e, 3);
      expect(await queue.counts(e)).toMatchObject({ queued: 3, running: 0 });
      const claims = await queue.take(e, 10, 30_000);
      expect(claims.map((c) => c.invocation.id).sort()).toEqual(['i-0', 'i-1', 'i-2']);
      for (const c of claims) {
        expect(c.invocation).toMatchObject({ enricher: e, state: 'running', attempts: 1 });
        expect(c.invocation.input).toEqual({ n: Number(c.invocation.id.slice(2)) });
      }
      expect(await queue.get(e, 'i-1')).toMatchObject({ state: 'running', attempts: 1 });
      expect(await queue.counts(e)).toMatchObject({ queued: 0, running: 3 });
      expect(await queue.take(e, 10, 30_000)).toEqual([]);
    });

    it('takes no more than asked', async () => {
      const e = enricher();
      await put(e, 5);
      expect(await queue.take(e, 2, 30_000)).toHaveLength(2);
      expect(await queue.take(e, 2, 30_000)).toHaveLength(2);
      expect(await queue.take(e, 2, 30_000)).toHaveLength(1);
    });

    it('keeps an id it holds as it is, whatever its state', async () => {
      const e = enricher();
      await queue.put(e, [{ id: 'same', input: { v: 1 } }]);
      await queue.put(e, [{ id: 'same', input: { v: 2 } }]);
      const [claim] = await queue.take(e, 10, 30_000);
      expect(claim?.invocation.input).toEqual({ v: 1 });
      expect(await queue.succeed(e, claim!, { ok: true })).toBe(true);
      await queue.put(e, [{ id: 'same', input: { v: 3 } }]);
      expect(await queue.take(e, 10, 30_000)).toEqual([]);
      expect(await queue.get(e, 'same')).toMatchObject({ state: 'succeeded', input: { v: 1 } });
    });

    it('records the result of a success', async () => {
      const e = enricher();
      await put(e, 1);
      const [claim] = await queue.take(e, 1, 30_000);
      expect(await queue.succeed(e, claim!, { category: 'bikes', score: 0.9 })).toBe(true);
      expect(await queue.get(e, 'i-0')).toMatchObject({
        state: 'succeeded',
        attempts: 1,
        result: { category: 'bikes', score: 0.9 },
      });
      expect(await queue.counts(e)).toMatchObject({ running: 0, succeeded: 1 });
    });

    it('holds a retry back until its time, then hands it out again', async () => {
      const e = enricher();
      await put(e, 1);
      const [first] = await queue.take(e, 1, 30_000);
      const error = { code: 'LARDER_ERR_ENRICH_HANDLER', message: 'boom' };
      expect(await queue.retry(e, first!, error, Date.now() + 700)).toBe(true);
      expect(await queue.get(e, 'i-0')).toMatchObject({ state: 'failed', attempts: 1, error });
      expect(await queue.counts(e)).toMatchObject({ failed: 1, running: 0 });
      expect(await queue.take(e, 1, 30_000)).toEqual([]);
      const [second] = await waitUntil(
        async () => {
          const taken = await queue.take(e, 1, 30_000);
          return taken.length > 0 ? taken : undefined;
        },
        10_000,
        'the retry to come due',
      );
      expect(second?.invocation).toMatchObject({ id: 'i-0', state: 'running', attempts: 2 });
      expect(await queue.succeed(e, second!, 1)).toBe(true);
      expect(await queue.get(e, 'i-0')).toMatchObject({ state: 'succeeded', attempts: 2 });
    });

    it('keeps the dead, lists them in order and replays them from attempt zero', async () => {
      const e = enricher();
      await put(e, 3);
      const claims = await queue.take(e, 3, 30_000);
      const byId = new Map(claims.map((c) => [c.invocation.id, c]));
      for (const id of ['i-2', 'i-0', 'i-1']) {
        expect(
          await queue.bury(e, byId.get(id)!, { code: 'LARDER_ERR_ENRICH_HANDLER', message: `bad ${id}` }),
        ).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const dead = await queue.dead(e);
      expect(dead.map((d) => d.id)).toEqual(['i-2', 'i-0', 'i-1']);
      expect(dead[0]).toMatchObject({
        state: 'dead',
        attempts: 1,
        error: { message: 'bad i-2' },
        input: { n: 2 },
      });
      expect((await queue.dead(e, { after: 'i-2', limit: 1 })).map((d) => d.id)).toEqual(['i-0']);
      expect(await queue.counts(e)).toMatchObject({ dead: 3, running: 0 });
      expect(await queue.take(e, 10, 30_000)).toEqual([]);

      expect(await queue.replay(e, ['i-0', 'nope'])).toEqual(['i-0']);
      expect(await queue.get(e, 'i-0')).toMatchObject({ state: 'queued', attempts: 0 });
      expect((await queue.get(e, 'i-0'))?.error).toBeUndefined();
      const [again] = await queue.take(e, 10, 30_000);
      expect(again?.invocation).toMatchObject({ id: 'i-0', attempts: 1 });
      expect((await queue.dead(e)).map((d) => d.id)).toEqual(['i-2', 'i-1']);
    });

    it('hands out again an invocation whose lease ran out, and ignores the old claim', async () => {
      const e = enricher();
      await put(e, 1);
      const [lost] = await queue.take(e, 1, 300);
      expect(lost).toBeDefined();
      const [retaken] = await waitUntil(
        async () => {
          const taken = await queue.take(e, 1, 30_000);
          return taken.length > 0 ? taken : undefined;
        },
        15_000,
        'the expired lease to be taken again',
      );
      expect(retaken?.invocation).toMatchObject({ id: 'i-0', attempts: 2 });
      expect(await queue.succeed(e, lost!, 'late')).toBe(false);
      expect(await queue.succeed(e, retaken!, 'on time')).toBe(true);
      expect(await queue.get(e, 'i-0')).toMatchObject({ state: 'succeeded', result: 'on time' });
    });

    it('never hands one invocation to two takers at once', async () => {
      const e = enricher();
      const other = await h.open();
      opened.push(other);
      await put(e, 200);
      const seen: Claim[] = [];
      await Promise.all(
        [queue, other, queue, other].map(async (q) => {
          for (;;) {
            const claims = await q.take(e, 7, 30_000);
            if (claims.length === 0) return;
            seen.push(...claims);
          }
        }),
      );
      const ids = seen.map((c) => c.invocation.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(200);
    });

    it('tells how long the oldest invocation has waited', async () => {
      const e = enricher();
      expect((await queue.counts(e)).oldestWaitingAt).toBeUndefined();
      const before = Date.now();
      await put(e, 2);
      const oldest = (await queue.counts(e)).oldestWaitingAt;
      expect(oldest).toBeGreaterThanOrEqual(before - 5);
      expect(oldest).toBeLessThanOrEqual(Date.now());
      await queue.take(e, 2, 30_000);
      expect((await queue.counts(e)).oldestWaitingAt).toBeUndefined();
    });

    it('tells this process when invocations are added', async () => {
      const e = enricher();
      const heard: string[] = [];
      const stop = queue.onAdded((name) => heard.push(name));
      await put(e, 1);
      stop();
      await put(e, 1, 'j');
      expect(heard).toEqual([e]);
    });

    it('removes old successes on purge, when the engine purges', async () => {
      if (!h.purges) return;
      const e = enricher();
      await put(e, 2);
      for (const claim of await queue.take(e, 2, 30_000)) await queue.succeed(e, claim, null);
      expect(await queue.purge(e, Date.now() - 60_000)).toBe(0);
      expect(await queue.purge(e, Date.now() + 1)).toBe(2);
      expect(await queue.get(e, 'i-0')).toBeUndefined();
      expect(await queue.counts(e)).toMatchObject({ succeeded: 0 });
    });
  });
}
