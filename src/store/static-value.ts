import { memberKey } from '../keys/value-codec.ts';
import type { StaticValue, StaticWrite } from './online-store.ts';

/**
 * How a static value is stored: a tagged array, so the stored bytes hold no field names.
 * Every shape starts with `[kind, ts, expiresAt]`, where `ts` is the newest event time that shaped
 * the value and `expiresAt` (epoch ms, or null for never) is set by the latest write.
 *
 * - single: `[0, ts, expiresAt, value]`
 * - set:    `[1, ts, expiresAt, members, memberTs]`, members newest first (by event time)
 * - map:    `[2, ts, expiresAt, keys, values, entryTs]`, parallel arrays in insertion order;
 *           arrays, not an object, so user keys never reach the shared msgpack structures.
 */
export type StoredStatic =
  | [kind: 0, ts: number, expiresAt: number | null, value: unknown]
  | [kind: 1, ts: number, expiresAt: number | null, members: unknown[], memberTs: number[]]
  | [kind: 2, ts: number, expiresAt: number | null, keys: string[], values: unknown[], entryTs: number[]];

const KIND = { single: 0, set: 1, map: 2 } as const;

export function isExpired(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt <= now;
}

/**
 * Applies one write to the stored value and returns the new stored value, or `undefined` when
 * the write changes nothing (an older event lost to a newer one, or removing what is absent).
 *
 * Rules, all last-writer-wins by event time (`ts`), ties going to the later write:
 * - single `set` replaces the value unless the stored one is newer.
 * - set `add` inserts the member (or refreshes its time), keeping members newest first and at
 *   most `maxCount` of them; `remove` deletes it unless the member was added by a newer event.
 *   A remove that arrives before its add is not remembered (there are no tombstones).
 * - map `put`/`delete` work per key the same way; beyond `maxCount` the oldest entries go.
 * An expired value, or one stored under another container type (the spec changed), counts as
 * absent: the write starts a fresh value.
 */
export function applyStaticWrite(
  stored: StoredStatic | undefined,
  write: StaticWrite,
  now: number,
): StoredStatic | undefined {
  const current =
    stored !== undefined && stored[0] === KIND[write.container] && !isExpired(stored[2], now)
      ? stored
      : undefined;
  const expiresAt = write.ttlMs === undefined ? null : now + write.ttlMs;
  const ts = current === undefined ? write.ts : Math.max(current[1], write.ts);
  const m = write.mutation;
  switch (write.container) {
    case 'single': {
      if (m.op !== 'set') return undefined;
      if (current !== undefined && write.ts < current[1]) return undefined;
      return [0, write.ts, expiresAt, m.value];
    }
    case 'set': {
      const [members, memberTs]: [unknown[], number[]] =
        current?.[0] === 1 ? [current[3], current[4]] : [[], []];
      if (m.op !== 'add' && m.op !== 'remove') return undefined;
      const key = memberKey(m.value);
      const at = members.findIndex((member) => memberKey(member) === key);
      if (at >= 0) {
        if ((memberTs[at] ?? 0) > write.ts) return undefined;
        members.splice(at, 1);
        memberTs.splice(at, 1);
      } else if (m.op === 'remove') {
        return undefined;
      }
      if (m.op === 'add') {
        let pos = memberTs.findIndex((t) => t <= write.ts);
        if (pos < 0) pos = memberTs.length;
        members.splice(pos, 0, m.value);
        memberTs.splice(pos, 0, write.ts);
        members.length = Math.min(members.length, write.maxCount);
        memberTs.length = members.length;
      }
      return [1, ts, expiresAt, members, memberTs];
    }
    default: {
      const [keys, values, entryTs]: [string[], unknown[], number[]] =
        current?.[0] === 2 ? [current[3], current[4], current[5]] : [[], [], []];
      if (m.op !== 'put' && m.op !== 'delete') return undefined;
      const at = keys.indexOf(m.key);
      if (at >= 0 && (entryTs[at] ?? 0) > write.ts) return undefined;
      if (m.op === 'delete') {
        if (at < 0) return undefined;
        keys.splice(at, 1);
        values.splice(at, 1);
        entryTs.splice(at, 1);
      } else if (at >= 0) {
        values[at] = m.value;
        entryTs[at] = write.ts;
      } else {
        keys.push(m.key);
        values.push(m.value);
        entryTs.push(write.ts);
        while (keys.length > write.maxCount) evictOldest(keys, values, entryTs);
      }
      return [2, ts, expiresAt, keys, values, entryTs];
    }
  }
}

/** Removes the entry with the smallest event time (the earliest inserted among equals). */
function evictOldest(keys: string[], values: unknown[], entryTs: number[]): void {
  let oldest = 0;
  for (let i = 1; i < entryTs.length; i++) {
    if ((entryTs[i] ?? 0) < (entryTs[oldest] ?? 0)) oldest = i;
  }
  keys.splice(oldest, 1);
  values.splice(oldest, 1);
  entryTs.splice(oldest, 1);
}

/** The read-path view of a stored value; `undefined` when absent or expired. */
export function readStatic(stored: StoredStatic | undefined, now: number): StaticValue | undefined {
  if (stored === undefined || isExpired(stored[2], now)) return undefined;
  switch (stored[0]) {
    case 0:
      return { value: stored[3], ts: stored[1] };
    case 1:
      return { value: stored[3], ts: stored[1] };
    default: {
      const [, ts, , keys, values] = stored;
      const value: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        // A plain assignment of `__proto__` would set the prototype instead of an entry.
        if (key === '__proto__') {
          Object.defineProperty(value, key, {
            value: values[i],
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else {
          value[key] = values[i];
        }
      }
      return { value, ts };
    }
  }
}
