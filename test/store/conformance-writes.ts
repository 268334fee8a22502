import type { ActionAppend, StaticMutation, StaticWrite } from '../../src/store/online-store.ts';

/** Builders for store writes, so the cases read as data. */

export function append(
  pk: string,
  ts: number,
  eventId: string,
  values: Record<string, unknown>,
  opts: { maxCount?: number; ttlMs?: number; stableTs?: boolean } = {},
): ActionAppend {
  return {
    kind: 'action',
    pk,
    row: { ts, eventId, values },
    maxCount: opts.maxCount ?? 100,
    ttlMs: opts.ttlMs,
    ...(opts.stableTs === undefined ? {} : { stableTs: opts.stableTs }),
  };
}

function staticWrite(
  pk: string,
  container: StaticWrite['container'],
  mutation: StaticMutation,
  ts: number,
  opts: { maxCount?: number; ttlMs?: number },
): StaticWrite {
  return { kind: 'static', pk, container, mutation, ts, ttlMs: opts.ttlMs, maxCount: opts.maxCount ?? 100 };
}

export function setSingle(
  pk: string,
  value: unknown,
  ts: number,
  opts: { ttlMs?: number } = {},
): StaticWrite {
  return staticWrite(pk, 'single', { op: 'set', value }, ts, opts);
}

export function addMember(
  pk: string,
  value: unknown,
  ts: number,
  opts: { maxCount?: number; ttlMs?: number } = {},
): StaticWrite {
  return staticWrite(pk, 'set', { op: 'add', value }, ts, opts);
}

export function removeMember(pk: string, value: unknown, ts: number): StaticWrite {
  return staticWrite(pk, 'set', { op: 'remove', value }, ts, {});
}

export function putEntry(
  pk: string,
  key: string,
  value: unknown,
  ts: number,
  opts: { maxCount?: number; ttlMs?: number } = {},
): StaticWrite {
  return staticWrite(pk, 'map', { op: 'put', key, value }, ts, opts);
}

export function deleteEntry(pk: string, key: string, ts: number): StaticWrite {
  return staticWrite(pk, 'map', { op: 'delete', key }, ts, {});
}
