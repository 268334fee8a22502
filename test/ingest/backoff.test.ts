import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../src/ingest/backoff.ts';

describe('backoffMs', () => {
  it('doubles from the base after each failure', () => {
    expect([0, 1, 2, 3].map((f) => backoffMs(f, 50))).toEqual([50, 100, 200, 400]);
    expect([1, 2].map((f) => backoffMs(f, 100))).toEqual([200, 400]);
  });

  it('stops at the cap, however long the outage', () => {
    expect(backoffMs(7, 50)).toBe(5_000);
    expect(backoffMs(10_000, 50)).toBe(5_000);
    expect(backoffMs(3, 250, 1_000)).toBe(1_000);
  });
});
