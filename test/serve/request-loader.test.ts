import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

describe('RequestLoader', () => {
  it('batches reads asked in one pass into one call per kind, deduplicated, answers in place', async () => {
    const loader = new RequestLoader(store);
    const a = loader.staticValue('u:1#os');
    const b = loader.staticValue('u:2#os');
    const c = loader.staticValue('u:1#os');
    const d = loader.staticValue('u:404#os');
    const r1 = loader.range('u:1#clicks', 2, undefined);
    const r2 = loader.range('u:1#clicks', 2, undefined);
    const r3 = loader.range('u:1#clicks', 3, undefined);
    expect(c).toBe(a);
    expect(r2).toBe(r1);
    expect(await Promise.all([a, b, c, d])).toEqual(['ios', 'android', 'ios', null]);
    expect((await r1).map((r) => r.values['article_id'])).toEqual([3, 2]);
    expect((await r3).map((r) => r.values['article_id'])).toEqual([3, 2, 1]);
    expect(store.staticCalls).toEqual([['u:1#os', 'u:2#os', 'u:404#os']]);
    expect(store.rangeCalls).toEqual([
      [
        { pk: 'u:1#clicks', count: 2, lastNSec: undefined },
        { pk: 'u:1#clicks', count: 3, lastNSec: undefined },
      ],
    ]);
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
