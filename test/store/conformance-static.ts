import { expect, it } from 'vitest';
import type { ConformanceContext } from './conformance.ts';
import { addMember, deleteEntry, putEntry, removeMember, setSingle } from './conformance-writes.ts';

/** Static values: container semantics, last-writer-wins by event time, TTL, batch reads. */
export function staticCases(ctx: ConformanceContext): void {
  it('single: put then get; an absent key reads undefined', async () => {
    const { store, t0 } = ctx;
    const os = ctx.pk('os');
    await store.write([setSingle(os, 'android', t0)]);
    expect(await store.getStatic([os, ctx.pk('nobody')])).toEqual([{ value: 'android', ts: t0 }, undefined]);
  });

  it('single: an older event never overwrites a newer value; equal ts goes to the later write', async () => {
    const { store, t0 } = ctx;
    const region = ctx.pk('region');
    await store.write([setSingle(region, 'seoul', t0 + 10)]);
    await store.write([setSingle(region, 'busan', t0 + 5)]);
    expect(await store.getStatic([region])).toEqual([{ value: 'seoul', ts: t0 + 10 }]);
    await store.write([setSingle(region, 'incheon', t0 + 10)]);
    expect(await store.getStatic([region])).toEqual([{ value: 'incheon', ts: t0 + 10 }]);
    await store.write([setSingle(region, 'daegu', t0 + 11)]);
    expect(await store.getStatic([region])).toEqual([{ value: 'daegu', ts: t0 + 11 }]);
  });

  it('single: structured values round-trip exactly', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('profile');
    const value = {
      title: '중고 자전거 🚲',
      price: 125000.5,
      tags: ['bike', 'used'],
      nested: { ok: true, none: null, list: [1, [2, 3]] },
    };
    await store.write([setSingle(pk, value, t0)]);
    expect((await store.getStatic([pk]))[0]?.value).toEqual(value);
  });

  it('set: members are unique by value and listed newest first', async () => {
    const { store, t0 } = ctx;
    const kw = ctx.pk('keywords');
    await store.write([
      addMember(kw, 'bike', t0 + 1),
      addMember(kw, 'desk', t0 + 2),
      addMember(kw, { k: 1 }, t0 + 3),
      addMember(kw, 7, t0 + 4),
      addMember(kw, 'bike', t0 + 5), // re-added: moves to the front, not duplicated
      addMember(kw, { k: 1 }, t0 + 6),
      addMember(kw, '7', t0 + 7), // a string is not the number 7
    ]);
    expect(await store.getStatic([kw])).toEqual([{ value: ['7', { k: 1 }, 'bike', 7, 'desk'], ts: t0 + 7 }]);
  });

  it('set: remove deletes a member unless a newer event added it', async () => {
    const { store, t0 } = ctx;
    const kw = ctx.pk('keywords');
    await store.write([addMember(kw, 'bike', t0 + 1), addMember(kw, 'desk', t0 + 5)]);
    await store.write([removeMember(kw, 'bike', t0 + 2), removeMember(kw, 'desk', t0 + 3)]);
    expect((await store.getStatic([kw]))[0]?.value).toEqual(['desk']);
    await store.write([removeMember(kw, 'desk', t0 + 6)]);
    expect((await store.getStatic([kw]))[0]?.value).toEqual([]);
  });

  it('set: holds at most maxCount members, evicting the oldest', async () => {
    const { store, t0 } = ctx;
    const kw = ctx.pk('keywords');
    const writes = ['a', 'b', 'c', 'd', 'e'].map((m, i) => addMember(kw, m, t0 + i, { maxCount: 3 }));
    await store.write(writes);
    expect((await store.getStatic([kw]))[0]?.value).toEqual(['e', 'd', 'c']);
    // An out-of-order add older than every kept member does not displace a newer one.
    await store.write([addMember(kw, 'old', t0 - 100, { maxCount: 3 })]);
    expect((await store.getStatic([kw]))[0]?.value).toEqual(['e', 'd', 'c']);
  });

  it('map: put and delete per key, last writer wins per key, read as a plain object', async () => {
    const { store, t0 } = ctx;
    const counts = ctx.pk('category_counts');
    await store.write([
      putEntry(counts, 'bike', 1, t0 + 1),
      putEntry(counts, 'desk', 2, t0 + 2),
      putEntry(counts, 'bike', 3, t0 + 3),
      putEntry(counts, 'desk', 99, t0 + 1), // older than the stored desk entry
      putEntry(counts, '__proto__', 'kept as an entry', t0 + 4),
    ]);
    const [read] = await store.getStatic([counts]);
    expect(read?.ts).toBe(t0 + 4);
    expect(read?.value).toEqual(JSON.parse('{"bike":3,"desk":2,"__proto__":"kept as an entry"}'));
    expect(Object.getPrototypeOf(read?.value)).toBe(Object.prototype);
    await store.write([deleteEntry(counts, 'bike', t0 + 5), deleteEntry(counts, 'desk', t0 + 1)]);
    expect((await store.getStatic([counts]))[0]?.value).toEqual(
      JSON.parse('{"desk":2,"__proto__":"kept as an entry"}'),
    );
  });

  it('map: holds at most maxCount entries, evicting the oldest', async () => {
    const { store, t0 } = ctx;
    const m = ctx.pk('map');
    await store.write([
      putEntry(m, 'a', 1, t0 + 3, { maxCount: 2 }),
      putEntry(m, 'b', 2, t0 + 1, { maxCount: 2 }),
      putEntry(m, 'c', 3, t0 + 2, { maxCount: 2 }),
    ]);
    expect((await store.getStatic([m]))[0]?.value).toEqual({ a: 1, c: 3 });
  });

  it('TTL: a value reads undefined once ttlMs has passed since its write', async (test) => {
    const { store, t0, clock } = ctx;
    if (clock === undefined) return test.skip();
    const os = ctx.pk('os');
    const kw = ctx.pk('kw');
    const m = ctx.pk('map');
    await store.write([
      setSingle(os, 'ios', t0, { ttlMs: 1000 }),
      addMember(kw, 'bike', t0, { ttlMs: 1000 }),
      putEntry(m, 'k', 1, t0, { ttlMs: 1000 }),
    ]);
    clock.set(t0 + 999);
    expect((await store.getStatic([os, kw, m])).map((v) => v?.value)).toEqual(['ios', ['bike'], { k: 1 }]);
    clock.set(t0 + 1000);
    expect(await store.getStatic([os, kw, m])).toEqual([undefined, undefined, undefined]);
    // A write after expiry starts a fresh value: expired members do not come back.
    await store.write([addMember(kw, 'desk', t0 + 1000, { ttlMs: 1000 }), setSingle(os, 'old', t0 - 5)]);
    expect((await store.getStatic([kw, os])).map((v) => v?.value)).toEqual([['desk'], 'old']);
  });

  it('batch get: many keys at once, in order, with undefined for absent keys', async () => {
    const { store, t0 } = ctx;
    const pks = Array.from({ length: 120 }, (_, i) => ctx.pk(`article_${i}`));
    await store.write(pks.flatMap((pk, n) => (n % 3 === 0 ? [] : [setSingle(pk, { n }, t0)])));
    const asked = [...pks].reverse();
    const read = await store.getStatic(asked);
    expect(read).toHaveLength(asked.length);
    asked.forEach((pk, i) => {
      const n = pks.indexOf(pk);
      if (n % 3 === 0) expect(read[i]).toBeUndefined();
      else expect(read[i]?.value).toEqual({ n });
    });
  });

  it('one batch applies writes to the same key in array order', async () => {
    const { store, t0 } = ctx;
    const os = ctx.pk('os');
    const kw = ctx.pk('kw');
    const m = ctx.pk('map');
    await store.write([
      setSingle(os, 'first', t0),
      addMember(kw, 'x', t0),
      putEntry(m, 'k', 1, t0),
      setSingle(os, 'second', t0),
      removeMember(kw, 'x', t0),
      deleteEntry(m, 'k', t0),
      addMember(kw, 'y', t0),
    ]);
    expect((await store.getStatic([os, kw, m])).map((v) => v?.value)).toEqual(['second', ['y'], {}]);
  });
}
