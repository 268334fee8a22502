import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency } from '../../src/ingest/stream/adaptive-concurrency.ts';

describe('AdaptiveConcurrency', () => {
  it('grows additively under backlog with steady latency, up to max', () => {
    const c = new AdaptiveConcurrency({ min: 1, max: 6, initial: 1 });
    for (let i = 0; i < 200; i += 1) c.sample({ latencyMs: 10, backlog: 100 });
    expect(c.limit).toBe(6);
  });

  it('does not grow without backlog', () => {
    const c = new AdaptiveConcurrency({ min: 1, max: 6, initial: 2 });
    for (let i = 0; i < 200; i += 1) c.sample({ latencyMs: 10, backlog: 0 });
    expect(c.limit).toBe(2);
  });

  it('shrinks multiplicatively when latency climbs, never below min', () => {
    const c = new AdaptiveConcurrency({ min: 2, max: 32, initial: 32 });
    for (let i = 0; i < 20; i += 1) c.sample({ latencyMs: 10, backlog: 10 });
    const before = c.limit;
    for (let i = 0; i < 40; i += 1) c.sample({ latencyMs: 500, backlog: 10 });
    expect(c.limit).toBeLessThan(before);
    for (let i = 0; i < 1000; i += 1) c.sample({ latencyMs: 5_000, backlog: 10 });
    expect(c.limit).toBe(2);
  });

  it('halves on failure, once per round', () => {
    const c = new AdaptiveConcurrency({ min: 1, max: 16, initial: 16 });
    c.sample({ latencyMs: 10, backlog: 1, failed: true });
    expect(c.limit).toBe(8);
    c.sample({ latencyMs: 10, backlog: 1, failed: true });
    expect(c.limit).toBe(8);
  });
});
