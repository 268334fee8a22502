import { describe, expect, it } from 'vitest';
import { HotEntityCache } from '../../src/serve/hot-entities.ts';

/** The hot entity cache on its own: entry lifetimes and the entry-held currency check. */
describe('HotEntityCache', () => {
  const ttlMs = 10_000;
  const now = 1_000_000;

  it('spreads the expiry of entities stored together over 85–100% of the TTL, never past it', () => {
    const hot = new HotEntityCache({ ttlMs });
    const expiries = Array.from({ length: 200 }, (_, i) => {
      const entry = hot.set('article', { id: String(i) }, true, now);
      expect(entry).toBeDefined();
      return entry!.expiresAt;
    });
    for (const at of expiries) {
      expect(at).toBeLessThanOrEqual(now + ttlMs);
      expect(at).toBeGreaterThanOrEqual(now + ttlMs * 0.85);
    }
    // Spread out: not one second in which they all expire.
    expect(Math.max(...expiries) - Math.min(...expiries)).toBeGreaterThan(ttlMs * 0.1);
    // Each is served until its own expiry and not after.
    const first = expiries[0]!;
    expect(hot.get('article', '0', [], first - 1)).toBeDefined();
    expect(hot.get('article', '0', [], first)).toBeUndefined();
  });

  it('tells a held entry is no longer current once replaced, forgotten or expired', () => {
    const hot = new HotEntityCache({ ttlMs });
    const a = hot.set('article', { id: '1', title: 'A' }, true, now)!;
    expect(hot.isCurrent(a, now + 1)).toBe(true);
    expect(hot.isCurrent(a, a.expiresAt)).toBe(false);
    const b = hot.set('article', { id: '1', title: 'B' }, true, now + 2)!;
    expect(hot.isCurrent(a, now + 3)).toBe(false);
    expect(hot.isCurrent(b, now + 3)).toBe(true);
    hot.forget('article', '1', now + 4);
    expect(hot.isCurrent(b, now + 5)).toBe(false);
  });

  it('forgets everything on forgetAll, and keeps out a read that started before it', () => {
    const hot = new HotEntityCache({ ttlMs });
    const held = hot.set('article', { id: '1', title: 'A' }, true, now)!;
    hot.set('user', { id: '7', os: 'ios' }, true, now);
    const readEpoch = hot.epoch;
    hot.forgetAll();
    expect(hot.size).toBe(0);
    expect(hot.isCurrent(held, now + 1)).toBe(false);
    expect(hot.get('user', '7', [], now + 1)).toBeUndefined();
    // A read that began before the forget may hold the old value: it is not stored.
    expect(hot.set('article', { id: '1', title: 'A' }, true, now + 2, readEpoch)).toBeUndefined();
    // One that began after is.
    expect(hot.set('article', { id: '1', title: 'B' }, true, now + 3, hot.epoch)).toBeDefined();
  });

  it('remembers a bounded number of forgets: past it, a burst forgets everything', () => {
    const hot = new HotEntityCache({ ttlMs });
    const held = hot.set('article', { id: 'kept', title: 'A' }, true, now)!;
    const readEpoch = hot.epoch;
    for (let i = 0; i <= 100_000; i++) hot.forget('user', String(i), now);
    expect(hot.isCurrent(held, now + 1)).toBe(false);
    expect(hot.set('article', { id: 'kept', title: 'A' }, true, now + 1, readEpoch)).toBeUndefined();
  });

  it('tells an evicted entry is no longer current', () => {
    const hot = new HotEntityCache({ ttlMs, maxEntries: 10 });
    const oldest = hot.set('article', { id: '0' }, true, now)!;
    for (let i = 1; i <= 10; i++) hot.set('article', { id: String(i) }, true, now);
    expect(hot.get('article', '0', [], now + 1)).toBeUndefined();
    expect(hot.isCurrent(oldest, now + 1)).toBe(false);
  });
});
