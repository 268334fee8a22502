import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActionRead } from '../../src/serve/action-read.ts';
import { RequestLoader } from '../../src/serve/request-loader.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import { tempDir } from '../support/temp-dir.ts';
import { CountingStore } from './counting-store.ts';

const tmp = tempDir('larder-loader-');
const store = new CountingStore(new LmdbStore(tmp.dir));
const now = Date.now();

beforeAll(async () => {
  await store.open();
  await store.write([
    {
      kind: 'static',
      pk: 'u:1#os',
      container: 'single',
      mutation: { op: 'set', value: 'ios' },
      ts: now,
      ttlMs: undefined,
      maxCount: 1,
    },
    {
      kind: 'static',
      pk: 'u:2#os',
      container: 'single',
      mutation: { op: 'set', value: 'android' },
      ts: now,
      ttlMs: undefined,
      maxCount: 1,
    },
    ...[1, 2, 3].map((i) => ({
      kind: 'action' as const,
      pk: 'u:1#clicks',
      row: { ts: now - (10 - i) * 1000, eventId: `e${i}`, values: { article_id: i } },
      maxCount: 10,
      ttlMs: undefined,
    })),
  ]);
});
afterAll(async () => {
  await store.close();
  tmp.remove();
});
beforeEach(() => store.reset());

/** An unfiltered read of the `count` newest rows. */
function newest(count: number): ActionRead {
  return { count, lastNSec: undefined, predicate: undefined };
}

describe('RequestLoader', () => {
  it('batches reads asked in one pass into one call per kind, deduplicated, answers in place', async () => {
    const loader = new RequestLoader(store);
    const a = loader.staticValue('u:1#os');
    const b = loader.staticValue('u:2#os');
    const c = loader.staticValue('u:1#os');
    const d = loader.staticValue('u:404#os');
    const r1 = loader.actionRows('u:1#clicks', newest(2), 10);
    const r2 = loader.actionRows('u:1#clicks', newest(2), 10);
    const r3 = loader.actionRows('u:1#clicks', newest(3), 10);
    expect(c).toBe(a);
    expect(r2).toBe(r1);
    expect(await Promise.all([a, b, c, d])).toEqual(['ios', 'android', 'ios', null]);
    expect((await r1).map((r) => r.values['article_id'])).toEqual([3, 2]);
    expect((await r3).map((r) => r.values['article_id'])).toEqual([3, 2, 1]);
    // Rows handed out, each ask counted (r1 and r2 share a read), and every value as a feature.
    expect(loader.rowsServed).toBe(2 + 2 + 3);
    expect(loader.featuresServed).toBe(4 + 7);
    expect(store.staticCalls).toEqual([['u:1#os', 'u:2#os', 'u:404#os']]);
    expect(store.rangeCalls).toEqual([
      [
        { pk: 'u:1#clicks', count: 2, lastNSec: undefined },
        { pk: 'u:1#clicks', count: 3, lastNSec: undefined },
      ],
    ]);
  });

  it('reads up to maxCount rows for a filter, keeps the newest matching, counts only those', async () => {
    const loader = new RequestLoader(store);
    const read: ActionRead = {
      count: 1,
      lastNSec: undefined,
      predicate: (row) => row.values['article_id'] !== 3,
    };
    const rows = await loader.actionRows('u:1#clicks', read, 10);
    expect(rows.map((r) => r.values['article_id'])).toEqual([2]);
    expect(store.rangeCalls).toEqual([[{ pk: 'u:1#clicks', count: 10, lastNSec: undefined }]]);
    expect(loader.rowsServed).toBe(1);
    expect(loader.featuresServed).toBe(1);
  });

  it('joins reads asked from promise continuations of the same pass', async () => {
    const loader = new RequestLoader(store);
    const first = loader.staticValue('u:1#os');
    const later = Promise.resolve().then(() => loader.staticValue('u:2#os'));
    expect(await Promise.all([first, later])).toEqual(['ios', 'android']);
    expect(store.staticCalls).toHaveLength(1);
  });

  it('starts a new batch for reads asked after a flush (the next query level)', async () => {
    const loader = new RequestLoader(store);
    expect(await loader.staticValue('u:1#os')).toBe('ios');
    expect(await loader.staticValue('u:2#os')).toBe('android');
    expect(store.staticCalls).toEqual([['u:1#os'], ['u:2#os']]);
  });

  it('rejects every waiter of a batch when the store fails', async () => {
    const loader = new RequestLoader(store);
    store.failNext = new Error('disk on fire');
    const results = await Promise.allSettled([loader.staticValue('u:1#os'), loader.staticValue('u:2#os')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
