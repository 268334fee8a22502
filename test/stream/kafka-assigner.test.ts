import type { ClusterMetadata, ExtendedGroupProtocolSubscription } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { subscriptionRoundRobin } from '../../src/ingest/stream/kafka-assigner.ts';

function metadata(partitions: Record<string, number>): ClusterMetadata {
  const topics = new Map(
    Object.entries(partitions).map(([name, count]) => [
      name,
      { id: name, partitions: [], partitionsCount: count, lastUpdate: 0 },
    ]),
  );
  return { id: 'c', brokers: new Map(), controllerId: 1, topics, lastUpdate: 0 };
}

function members(subscriptions: Record<string, string[]>): Map<string, ExtendedGroupProtocolSubscription> {
  return new Map(
    Object.entries(subscriptions).map(([memberId, topics]) => [memberId, { memberId, topics, version: 1 }]),
  );
}

/** `{ member: ['topic:partition', ...] }`, for comparing assignments. */
function flat(result: ReturnType<typeof subscriptionRoundRobin>): Record<string, string[]> {
  return Object.fromEntries(
    result.map((m) => [
      m.memberId,
      [...m.assignments.values()].flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)).sort(),
    ]),
  );
}

describe('Kafka subscription-aware round-robin assigner', () => {
  it('gives each partition to one member that subscribed to its topic, whatever the leader reads', () => {
    // The leader ('a') reads only `events`; the client's own assigner would deal `events` out to
    // 'r' too and leave `events.retry` with no owner.
    const result = subscriptionRoundRobin(
      'a',
      members({ a: ['events'], b: ['events'], r: ['events.retry'] }),
      new Set(['events']),
      metadata({ events: 4, 'events.retry': 2 }),
    );
    expect(flat(result)).toEqual({
      a: ['events:0', 'events:2'],
      b: ['events:1', 'events:3'],
      r: ['events.retry:0', 'events.retry:1'],
    });
  });

  it('is the same whichever member leads, and spreads single-partition topics', () => {
    const subs = { m1: ['t1', 't2', 't3'], m2: ['t1', 't2', 't3'] };
    const meta = metadata({ t1: 1, t2: 1, t3: 1 });
    const one = flat(subscriptionRoundRobin('m1', members(subs), new Set(['t1']), meta));
    const two = flat(subscriptionRoundRobin('m2', members(subs), new Set(['t2']), meta));
    expect(one).toEqual(two);
    expect(one).toEqual({ m1: ['t1:0', 't3:0'], m2: ['t2:0'] });
  });
});
