import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLarderError } from '../../src/errors.ts';
import { openLmdbEnv, type LmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import type { StoreWrite } from '../../src/store/online-store.ts';
import { describeOnlineStoreConformance } from './conformance.ts';
import { addMember, append, putEntry, setSingle } from './conformance-writes.ts';
import { floatVector } from './conformance-vectors.ts';
import { vectorBytes } from '../../src/keys/float-vector.ts';
import { manualClock } from './manual-clock.ts';

const tempDir = () => mkdtemp(join(tmpdir(), 'larder-lmdb-'));

describeOnlineStoreConformance('lmdb', async () => {
  const dir = await tempDir();
  const clock = manualClock();
  const store = new LmdbStore(dir, { now: clock.now });
  return { store, now: clock, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('LmdbStore specifics', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  async function openEnv(dir?: string): Promise<{ dir: string; env: LmdbEnv }> {
    const d = dir ?? (await tempDir());
    if (dir === undefined) cleanups.push(() => rm(d, { recursive: true, force: true }));
    const env = openLmdbEnv(d);
    cleanups.push(() => env.close());
    return { dir: d, env };
  }

  it('stores a vector as its float32 bytes, not as msgpack numbers', async () => {
    const { env } = await openEnv();
    const store = new LmdbStore(env);
    await store.open();
    const v = floatVector(384);
    await store.write([setSingle('u:1#emb', v, 1_700_000_000_000)]);
    const bytes = env.statics.getBinary('u:1#emb');
    expect(bytes).toBeDefined();
    // 1,536 bytes of float32 plus the stored value's frame; msgpack float64 numbers would be 3,459.
    expect(bytes!.length).toBeGreaterThan(384 * 4);
    expect(bytes!.length).toBeLessThan(384 * 4 + 40);
    expect(Buffer.from(bytes!).indexOf(vectorBytes(v))).toBeGreaterThan(0);
    expect(Array.from((await store.getStatic(['u:1#emb']))[0]?.value as Float32Array)).toEqual(Array.from(v));
  });

  it('data survives close and reopen of the same directory', async () => {
    const dir = await tempDir();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const clock = manualClock();
    const t0 = clock.now();
    const writes: StoreWrite[] = [
      ...Array.from({ length: 7 }, (_, i) =>
        append(
          'u:1#clicks',
          t0 - i * 1000,
          `e${i}`,
          { article_id: i, title: `t${i}` },
          { maxCount: 5, ttlMs: 86_400_000 },
        ),
      ),
      setSingle('u:1#os', { name: 'android', version: 14 }, t0),
      addMember('u:1#kw', 'bike', t0),
      addMember('u:1#kw', 'desk', t0 + 1),
      putEntry('u:1#counts', 'bike', 3, t0),
    ];
    const first = new LmdbStore(dir, { now: clock.now });
    await first.open();
    await first.write(writes);
    const query = [{ pk: 'u:1#clicks', count: 10, lastNSec: undefined }];
    const pks = ['u:1#os', 'u:1#kw', 'u:1#counts', 'u:1#none'];
    const rowsBefore = await first.getRanges(query);
    const staticsBefore = await first.getStatic(pks);
    await first.close();

    const second = new LmdbStore(dir, { now: clock.now });
    await second.open();
    cleanups.push(() => second.close());
    expect(await second.getRanges(query)).toEqual(rowsBefore);
    expect(rowsBefore[0]).toHaveLength(5);
    expect(await second.getStatic(pks)).toEqual(staticsBefore);
    expect(staticsBefore.map((v) => v?.value)).toEqual([
      { name: 'android', version: 14 },
      ['desk', 'bike'],
      { bike: 3 },
      undefined,
    ]);
    // Idempotency and maxCount bookkeeping survive too.
    await second.write([append('u:1#clicks', t0 - 4000, 'e4', { article_id: 4 }, { maxCount: 5 })]);
    await second.write([append('u:1#clicks', t0 + 1, 'e_new', {}, { maxCount: 5 })]);
    const [rows] = await second.getRanges(query);
    expect(rows?.map((r) => r.eventId)).toEqual(['e_new', 'e0', 'e1', 'e2', 'e3']);
  });

  it('trimming and purging also clean the dedupe index and the row counts', async () => {
    const { env } = await openEnv();
    const clock = manualClock();
    const t0 = clock.now();
    const store = new LmdbStore(env, { now: clock.now });
    await store.open();
    await store.write(
      Array.from({ length: 10 }, (_, i) => append('p', t0 + i, `e${i}`, {}, { maxCount: 4, ttlMs: 100 })),
    );
    expect(env.rowMeta.get('p')?.[0]).toBe(4);
    expect([...env.dedupe.getKeys({ start: ['p'], end: ['p', '\uffff'] })]).toHaveLength(4);
    expect(await store.purgeExpired(t0 + 1000)).toBe(4);
    expect(env.rowMeta.get('p')).toBeUndefined();
    expect([...env.dedupe.getKeys({ start: ['p'], end: ['p', '\uffff'] })]).toHaveLength(0);
    expect(env.rows.getKeysCount({ start: ['p'], end: ['p', Number.MAX_SAFE_INTEGER] })).toBe(0);
  });

  it('an incremental purge with a small budget covers every entry over several calls', async () => {
    const { env } = await openEnv();
    const clock = manualClock();
    const t0 = clock.now();
    const store = new LmdbStore(env, { now: clock.now, purgeBatchSize: 7 });
    await store.open();
    await store.write(
      Array.from({ length: 30 }, (_, i) => append(`pk${i % 6}`, t0 + i, `e${i}`, {}, { ttlMs: 10 })),
    );
    await store.write(Array.from({ length: 12 }, (_, i) => setSingle(`s${i}`, i, t0, { ttlMs: 10 })));
    let total = 0;
    for (let call = 0; call < 10; call++) total += await store.purgeExpired(t0 + 1000);
    expect(total).toBe(42);
    expect(env.rows.getKeysCount({ start: ['pk'], end: ['pl'] })).toBe(0);
  });

  it('an invalid write rejects the whole batch before anything is written', async () => {
    const { env } = await openEnv();
    const store = new LmdbStore(env);
    await store.open();
    const t0 = Date.now();
    const bad: StoreWrite[] = [setSingle('ok', 1, t0), { ...addMember('bad', 1, t0), container: 'single' }];
    const err = await store.write(bad).catch((e: unknown) => e);
    expect(isLarderError(err) && err.code).toBe('LARDER_ERR_STORE_WRITE_INVALID');
    expect(await store.getStatic(['ok'])).toEqual([undefined]);
    for (const write of [
      append('p', Number.NaN, 'e', {}),
      append('p', t0, '', {}),
      append('p\u0000q', t0, 'e', {}),
      append('p', t0, 'e', {}, { maxCount: 0 }),
      append('p', t0, 'x'.repeat(2000), {}),
    ]) {
      const e = await store.write([write]).catch((x: unknown) => x);
      expect(isLarderError(e) && e.code).toBe('LARDER_ERR_STORE_WRITE_INVALID');
    }
  });

  it('refuses a data directory written in another format', async () => {
    const { dir, env } = await openEnv();
    env.meta.putSync('format', 999);
    await env.close();
    let err: unknown;
    try {
      openLmdbEnv(dir);
    } catch (e) {
      err = e;
    }
    expect(isLarderError(err) && err.code).toBe('LARDER_ERR_STORE_FORMAT');
  });

  it('methods before open() throw LARDER_ERR_STORE_CLOSED', async () => {
    const dir = await tempDir();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = new LmdbStore(dir);
    const err = await store.getStatic(['x']).catch((e: unknown) => e);
    expect(isLarderError(err) && err.code).toBe('LARDER_ERR_STORE_CLOSED');
    expect(await store.ping()).toBe(false);
  });

  it('a store sharing an environment leaves it open on close', async () => {
    const { env } = await openEnv();
    const store = new LmdbStore(env);
    await store.open();
    await store.close();
    expect(env.closed).toBe(false);
    const again = new LmdbStore(env);
    await again.open();
    expect(await again.ping()).toBe(true);
  });
});
