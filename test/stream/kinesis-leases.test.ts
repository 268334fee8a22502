import { randomBytes } from 'node:crypto';
import type { Shard } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseCoordinator, type LeaseSettings } from '../../src/ingest/stream/kinesis-leases.ts';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';

/**
 * The lease rules, round by round, on a real DynamoDB API (dynalite): each `assign` is one round of
 * one process (what its timer runs every `leaseDuration / 4`).
 */
let dynamo: DynaliteHandle;
let settings: LeaseSettings;
const open: LeaseCoordinator[] = [];
beforeAll(async () => {
  dynamo = await startDynalite();
  settings = {
    table: `leases_${randomBytes(4).toString('hex')}`,
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    leaseDurationMs: 400,
  };
});
afterAll(async () => {
  for (const c of open) await c.close().catch(() => undefined);
  await dynamo?.close();
});

const SHARDS: Shard[] = [0, 1, 2, 3].map((i) => ({ ShardId: `shardId-00000000000${i}` }) as Shard);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One process: its coordinator and the shards it reads, kept as the source keeps them. */
async function member(pk: string) {
  const coordinator = await LeaseCoordinator.open(settings, pk);
  open.push(coordinator);
  const reading = new Map<string, string | undefined>();
  return {
    coordinator,
    reading,
    async round(shards: readonly Shard[] = SHARDS) {
      const { start, stop } = await coordinator.assign(shards, new Set(reading.keys()));
      for (const id of stop) reading.delete(id);
      for (const g of start) reading.set(g.id, g.checkpoint);
      return { start, stop };
    },
  };
}

describe('Kinesis shard leases (DynamoDB)', () => {
  it('one process takes every shard; a second gets its share, one lease per round, fenced', async () => {
    const pk = `g/${randomBytes(3).toString('hex')}`;
    const a = await member(pk);
    await a.round();
    expect([...a.reading.keys()].sort()).toEqual(SHARDS.map((s) => s.ShardId));
    expect(await a.coordinator.advance('shardId-000000000000', '100', false)).toBe(true);
    await a.round(); // a commit is written with the next renewal

    // b joins. Between b's rounds a runs its own (renewing, as its timer would): nothing expires.
    const b = await member(pk);
    const stopped: string[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      await b.round(); // nothing free: one lease from a while a holds two more than b
      sizes.push(b.reading.size);
      stopped.push(...(await a.round()).stop); // a learns at its renewal that the lease is gone
    }
    expect(sizes).toEqual([1, 2, 2]);
    expect(stopped.sort()).toEqual([...b.reading.keys()].sort());
    expect(a.reading.size).toBe(2);
    expect([...a.reading.keys(), ...b.reading.keys()].sort()).toEqual(SHARDS.map((s) => s.ShardId));
    // A checkpoint on a lease this process lost is refused.
    for (const id of b.reading.keys()) expect(await a.coordinator.advance(id, '999', false)).toBe(false);
    // b took shard 0 first (a's first lease): it resumes after a's checkpoint.
    expect(b.reading.get('shardId-000000000000')).toBe('100');
  });

  it('a process that stops renewing loses its leases after leaseDuration; one that stops releases them', async () => {
    const pk = `g/${randomBytes(3).toString('hex')}`;
    const a = await member(pk);
    const b = await member(pk);
    await a.round();
    for (let i = 0; i < 3; i += 1) {
      await b.round();
      await a.round();
    }
    expect(a.reading.size).toBe(2);
    expect(b.reading.size).toBe(2);

    // a goes silent (killed): b takes nothing until a's counters stood still for leaseDuration...
    await b.round();
    expect(b.reading.size).toBe(2);
    await sleep(settings.leaseDurationMs + 50);
    expect(a.coordinator.lapsed().sort()).toEqual([...a.reading.keys()].sort()); // a knows, too
    await b.round();
    expect(b.reading.size).toBe(4);

    // b stops: its last commits are written and its leases released; a newcomer takes them at once.
    expect(await b.coordinator.advance('shardId-000000000003', '555', false)).toBe(true);
    await b.coordinator.close();
    const c = await member(pk);
    await c.round();
    expect(c.reading.size).toBe(4);
    expect(c.reading.get('shardId-000000000003')).toBe('555');
  });

  it('a child shard starts only once its parent ended', async () => {
    const pk = `g/${randomBytes(3).toString('hex')}`;
    const a = await member(pk);
    const parent = { ShardId: 'shardId-000000000000' } as Shard;
    const child = { ShardId: 'shardId-000000000001', ParentShardId: 'shardId-000000000000' } as Shard;
    await a.round([parent, child]);
    expect([...a.reading.keys()]).toEqual(['shardId-000000000000']);
    expect(await a.coordinator.advance('shardId-000000000000', '7', true)).toBe(true);
    a.reading.delete('shardId-000000000000');
    await a.round([parent, child]);
    expect([...a.reading.keys()]).toEqual(['shardId-000000000001']);
  });
});
