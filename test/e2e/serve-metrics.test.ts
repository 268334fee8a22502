import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { waitUntil } from '../support/wait-until.ts';
import { serveArgs, writeRedisStreamRegistry } from './support.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * `larder serve` exposes one `/metrics` for the whole process: request metrics, the cache levels'
 * hit ratios, and the stream consumers it runs (lag, events by outcome, freshness).
 */
describe('larder serve /metrics: requests, cache levels and consumers together', () => {
  const tmp = tempDir('larder-serve-metrics-');
  const topic = `larder-test-${randomUUID()}`;
  const redis = new Redis('redis://127.0.0.1:6379');
  let server: LarderProcess;
  let port = 0;

  const metricValue = (text: string, pattern: RegExp): number => {
    const line = text.split('\n').find((l) => pattern.test(l));
    return line === undefined ? Number.NaN : Number(line.split(' ').at(-1));
  };
  const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

  beforeAll(async () => {
    const registryDir = path.join(tmp.dir, 'registry');
    writeRedisStreamRegistry(registryDir, topic, true);
    await redis.xadd(topic, '*', 'data', JSON.stringify({ id: 'e1', user_id: 1, item: 5 }));
    await redis.xadd(topic, '*', 'data', JSON.stringify({ id: 'e2', user_id: 1, item: 6 }));
    port = await freePort();
    server = startLarder(serveArgs(registryDir, path.join(tmp.dir, 'data'), port));
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      30_000,
      `readyz\n${server?.output()}`,
    );
  });

  afterAll(async () => {
    await server?.stop();
    const keys = await redis.keys(`${topic}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    tmp.remove();
  });

  it('counts consumed events by outcome and reports lag per partition', async () => {
    let text = '';
    await waitUntil(
      async () => {
        text = await scrape();
        // Lag is sampled every 5 s: wait for the first sample too.
        return (
          metricValue(text, /^larder_stream_events_total\{.*outcome="written"/) === 2 &&
          /^larder_stream_lag_messages\{/m.test(text)
        );
      },
      30_000,
      'two written events and a lag sample on /metrics',
    );
    expect(metricValue(text, /^larder_stream_freshness_seconds_count\{/)).toBe(2);
  });

  it('reports the in-memory cache levels after repeated reads', async () => {
    const query = { query: '{ user(id: 1) { clicks(input: {count: 5}) { item } } }' };
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(query),
      });
      const body = (await res.json()) as { data?: { user?: { clicks?: { item: number }[] } } };
      expect(body.data?.user?.clicks?.map((c) => c.item)).toEqual([6, 5]);
    }
    const text = await scrape();
    // The first read misses the hot row cache (on by default) and goes through the in-process
    // level; the later ones are answered by the hot row cache and reach no level.
    const hot = metricValue(text, /^larder_cache_hit_ratio\{level="hot_rows"\}/);
    expect(hot).toBeGreaterThan(0);
    expect(hot).toBeLessThan(1);
    expect(
      metricValue(text, /^larder_cache_level_lookups_total\{level="local",result="miss"\}/),
    ).toBeGreaterThan(0);
    expect(text).toMatch(/^larder_request_duration_seconds_count\{operation="anonymous",status="200"\}/m);
  });
});
