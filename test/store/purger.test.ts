import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import { startPurger } from '../../src/store/purger.ts';
import { append } from './conformance-writes.ts';
import { manualClock } from './manual-clock.ts';
import { waitUntil } from '../support/wait-until.ts';

describe('startPurger', () => {
  it('purges expired rows in the background', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'larder-purger-'));
    const clock = manualClock();
    const store = new LmdbStore(dir, { now: clock.now });
    await store.open();
    try {
      const t0 = clock.now();
      await store.write(Array.from({ length: 5 }, (_, i) => append('p', t0, `e${i}`, {}, { ttlMs: 10 })));
      clock.advance(1000);
      let purged = 0;
      const purger = startPurger(
        {
          name: store.name,
          purgeExpired: async () => {
            const n = await store.purgeExpired();
            purged += n;
            return n;
          },
        },
        { intervalMs: 5 },
      );
      await waitUntil(() => purged === 5, 5000, 'the purger to purge 5 rows');
      await purger.stop();
      await purger.stop();
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('logs a failing purge and keeps going', async () => {
    const warnings: string[] = [];
    let calls = 0;
    const purger = startPurger(
      {
        name: 'broken',
        purgeExpired: async () => {
          calls++;
          throw new Error('disk on fire');
        },
      },
      { intervalMs: 5, logger: { warn: (_obj, msg) => warnings.push(msg) } },
    );
    await waitUntil(() => calls >= 3, 5000, 'the purger to run 3 times');
    await purger.stop();
    const callsAtStop = calls;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(calls).toBe(callsAtStop);
    expect(warnings.length).toBeGreaterThanOrEqual(3);
  });
});
