import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startConsumers } from '../../src/ingest/stream/start-consumers.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { tempDir } from '../support/temp-dir.ts';
import { makeEvents, openPipeline, writeTestRegistry } from './fixtures/pipeline.ts';
import { waitUntil } from '../support/wait-until.ts';

const URL = 'redis://127.0.0.1:6379';
const redis = new Redis(URL);
afterAll(() => redis.quit());

describe('startConsumers', () => {
  it(
    'follows registry reloads and exposes lag, outcome and freshness metrics',
    { timeout: 30_000 },
    async () => {
      const a = `larder-sc:${randomBytes(5).toString('hex')}`;
      const b = `larder-sc:${randomBytes(5).toString('hex')}`;
      const reg = tempDir('larder-sc-reg-');
      const regB = tempDir('larder-sc-regb-');
      const data = tempDir('larder-sc-data-');
      try {
        writeTestRegistry(reg.dir, {
          source: 'redis',
          connection: { url: URL },
          topic: a,
          options: { fetchWait: '50ms' },
        });
        writeTestRegistry(regB.dir, {
          source: 'redis',
          connection: { url: URL },
          topic: b,
          options: { fetchWait: '50ms' },
        });
        const pipeline = await openPipeline(reg.dir, data.dir);
        const running = await startConsumers({
          registry: pipeline.registry,
          ingestor: pipeline.ingestor,
          logger: pino({ level: 'silent' }),
          dataDir: data.dir,
          lagIntervalMs: 100,
        });
        // One main consumer and one per retry tier (1s, 10s, 60s).
        expect(running.consumers().map((c) => c.source.id)).toEqual([
          `redis:events/${a}`,
          `redis:events/${a}:retry:1000ms`,
          `redis:events/${a}:retry:10000ms`,
          `redis:events/${a}:retry:60000ms`,
        ]);
        const now = Date.now();
        for (const e of makeEvents(20, 5, 0, now)) await redis.xadd(a, '*', 'data', JSON.stringify(e));
        await waitUntil(() => running.metrics.total('written') >= 20, 10_000, '20 events written');

        pipeline.registry.replace(await loadRegistry(regB.dir));
        await waitUntil(
          () => running.consumers()[0]?.source.id === `redis:events/${b}`,
          10_000,
          `the consumers to move to redis:events/${b}`,
        );
        expect(running.consumers().map((c) => c.source.id)[0]).toBe(`redis:events/${b}`);
        expect(running.consumers().some((c) => c.source.id.includes(a))).toBe(false);
        for (const e of makeEvents(10, 5, 0, now))
          await redis.xadd(b, '*', 'data', JSON.stringify({ ...e, event_id: `b${e.event_id}` }));
        await waitUntil(() => running.metrics.total('written') >= 30, 10_000, '30 events written');
        await new Promise((r) => setTimeout(r, 250));

        const text = await running.metrics.registry.metrics();
        expect(text).toContain(`larder_stream_events_total{source="redis:events/${a}",outcome="written"} 20`);
        expect(text).toContain(`larder_stream_events_total{source="redis:events/${b}",outcome="written"} 10`);
        expect(text).toMatch(
          new RegExp(`larder_stream_lag_messages\\{source="redis:events/${b}",partition="${b}"\\} 0`),
        );
        expect(text).toMatch(/larder_stream_freshness_seconds_count\{source="redis:events\/[^"]+"\} 20/);
        await running.stop();
        expect(running.consumers()).toHaveLength(0);
        await pipeline.close();
      } finally {
        const keys = [...(await redis.keys(`${a}*`)), ...(await redis.keys(`${b}*`))];
        if (keys.length > 0) await redis.del(...keys);
        reg.remove();
        regB.remove();
        data.remove();
      }
    },
  );
});
