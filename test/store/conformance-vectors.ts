import { expect, it } from 'vitest';
import { FloatVector } from '../../src/keys/float-vector.ts';
import type { ConformanceContext } from './conformance.ts';
import { addMember, append, setSingle } from './conformance-writes.ts';

/** A `vector(n)` value as ingestion makes it. */
export function floatVector(n: number, seed = 1): FloatVector {
  const v = new FloatVector(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(seed * (i + 1)) * 10 ** ((i % 7) - 3);
  return v;
}

/** The values a store must hand back for `v`: the same float32 numbers, as a FloatVector. */
function expectSameVector(read: unknown, v: Float32Array): void {
  expect(read).toBeInstanceOf(FloatVector);
  expect(Array.from(read as Float32Array)).toEqual(Array.from(v));
}

/** Vectors (`vector(N)` values): float32 in, the same float32 out, whatever the container. */
export function vectorCases(ctx: ConformanceContext): void {
  it('single: a 384-dim vector and a tiny one round-trip as float32, bit for bit', async () => {
    const { store, t0 } = ctx;
    const big = floatVector(384);
    const edge = FloatVector.of(-0, 3.4e38, -1.4e-45, 0.1);
    await store.write([setSingle(ctx.pk('emb'), big, t0), setSingle(ctx.pk('edge'), edge, t0)]);
    const [a, b] = await store.getStatic([ctx.pk('emb'), ctx.pk('edge')]);
    expectSameVector(a?.value, big);
    expectSameVector(b?.value, edge);
    expect(Object.is((b?.value as Float32Array)[0], -0)).toBe(true);
    expect((b?.value as Float32Array)[3]).toBe(Math.fround(0.1));
  });

  it('single: a vector inside a value object round-trips beside other fields', async () => {
    const { store, t0 } = ctx;
    const v = floatVector(8, 2);
    await store.write([setSingle(ctx.pk('obj'), { title: 'bike', embedding: v, score: 0.5 }, t0)]);
    const value = (await store.getStatic([ctx.pk('obj')]))[0]?.value as Record<string, unknown>;
    expect(value['title']).toBe('bike');
    expect(value['score']).toBe(0.5);
    expectSameVector(value['embedding'], v);
  });

  it('action rows: vector fields round-trip in every row, newest first', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('seen');
    const vs = [floatVector(64, 1), floatVector(64, 2), floatVector(64, 3)];
    await store.write(vs.map((v, i) => append(pk, t0 - i * 1000, `e${i}`, { embedding: v, article_id: i })));
    const [rows] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
    expect(rows?.map((r) => r.values['article_id'])).toEqual([0, 1, 2]);
    rows?.forEach((r, i) => expectSameVector(r.values['embedding'], vs[i]!));
  });

  it('set: vector members are unique by their float32 values', async () => {
    const { store, t0 } = ctx;
    const pk = ctx.pk('vset');
    const a = FloatVector.of(1, 2, 3);
    await store.write([
      addMember(pk, a, t0 + 1),
      addMember(pk, FloatVector.of(1, 2, 4), t0 + 2),
      addMember(pk, FloatVector.of(1, 2, 3), t0 + 3), // the same values: moves to the front
    ]);
    const members = (await store.getStatic([pk]))[0]?.value as Float32Array[];
    expect(members.map((m) => Array.from(m))).toEqual([
      [1, 2, 3],
      [1, 2, 4],
    ]);
    expect(members[0]).toBeInstanceOf(FloatVector);
  });
}
