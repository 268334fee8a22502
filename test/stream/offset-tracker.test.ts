import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../../src/ingest/stream/offset-tracker.ts';

describe('OffsetTracker', () => {
  it('commits only the contiguous finished prefix, folding out-of-order finishes', () => {
    const t = new OffsetTracker();
    const h = ['10', '11', '15', '16', '20'].map((o) => t.track(o));
    expect(t.finish(h[2]!)).toBe(false);
    expect(t.finish(h[4]!)).toBe(false);
    expect(t.watermark).toBeUndefined();
    expect(t.finish(h[0]!)).toBe(true);
    expect(t.watermark).toBe('10');
    expect(t.finish(h[1]!)).toBe(true);
    // 11 and the already-finished 15 fold in; 16 is still open.
    expect(t.watermark).toBe('15');
    expect(t.outstanding).toBe(2);
    expect(t.finish(h[3]!)).toBe(true);
    expect(t.watermark).toBe('20');
    expect(t.outstanding).toBe(0);
  });

  it('ignores double finishes and handles from before a reset', () => {
    const t = new OffsetTracker();
    const a = t.track('1');
    expect(t.finish(a)).toBe(true);
    expect(t.finish(a)).toBe(false);
    const b = t.track('2');
    t.reset();
    expect(t.finish(b)).toBe(false);
    expect(t.watermark).toBeUndefined();
    const c = t.track('7');
    expect(t.finish(c)).toBe(true);
    expect(t.watermark).toBe('7');
  });

  it('takeCommit reports each move once', () => {
    const t = new OffsetTracker();
    const a = t.track('1');
    expect(t.takeCommit()).toBeUndefined();
    t.finish(a);
    expect(t.takeCommit()).toBe('1');
    expect(t.takeCommit()).toBeUndefined();
  });

  it('stays correct across compaction with 100k random-order finishes', () => {
    const t = new OffsetTracker();
    const n = 100_000;
    const handles = Array.from({ length: n }, (_, i) => t.track(String(i)));
    // Finish in a shuffled order within sliding windows of 500, like a parallel consumer does.
    let seed = 42;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let maxWatermark = -1;
    for (let start = 0; start < n; start += 500) {
      const window = handles.slice(start, start + 500);
      for (let i = window.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [window[i], window[j]] = [window[j]!, window[i]!];
      }
      for (const h of window) {
        t.finish(h);
        const wm = Number(t.watermark ?? -1);
        expect(wm).toBeGreaterThanOrEqual(maxWatermark);
        maxWatermark = wm;
      }
      expect(t.watermark).toBe(String(Math.min(n, start + 500) - 1));
    }
    expect(t.outstanding).toBe(0);
  });
});
