import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { deepJsonText } from '../../src/ingest/deep-json.ts';
import { startConsumers } from '../../src/ingest/stream/start-consumers.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';
import { makeEvents, openPipeline, writeTestRegistry } from '../stream/fixtures/pipeline.ts';

const URL = 'redis://127.0.0.1:6379';
const redis = new Redis(URL);
afterAll(() => redis.quit());

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/**
 * Events the store cannot key, on Redis Streams: each one is dead-lettered at once, on its first
 * attempt (no retry tier, no minute-long retries), and every good event around it is written.
 */
describe('hostile events on a Redis stream', () => {
  it(
    'are dead-lettered on their first attempt, alone; the good ones are written',
    { timeout: 60_000 },
    async () => {
      const topic = `larder-rel:${randomBytes(5).toString('hex')}`;
      const reg = tempDir('larder-rel-reg-');
      const data = tempDir('larder-rel-data-');
      writeTestRegistry(reg.dir, {
        source: 'redis',
        connection: { url: URL },
        topic,
        options: { fetchWait: '50ms' },
      });
      const pipeline = await openPipeline(reg.dir, data.dir);
      const running = await startConsumers({
        registry: pipeline.registry,
        ingestor: pipeline.ingestor,
        logger: pino({ level: 'silent' }),
        dataDir: data.dir,
      });
      try {
        const good = makeEvents(400, 20, 0, Date.now() - 3_600_000);
        const hostile = [
          { ...good[0]!, event_id: 'h-ts', ts: 2 ** 53 },
          { ...good[0]!, event_id: 'h-nul-user', user_id: 'a\u0000b' },
          { ...good[0]!, event_id: 'h-long-user', user_id: 'x'.repeat(2_000) },
          { ...good[0]!, event_id: `h-long-id-${'y'.repeat(600)}` },
          { ...good[0]!, event_id: 'h-nul-id\u0000' },
          { ...good[0]!, event_id: 'h-deep', extra: nested(10_000) },
        ];
        const started = performance.now();
        const pipelineCmd = redis.pipeline();
        good.forEach((event, i) => {
          pipelineCmd.xadd(topic, '*', 'data', JSON.stringify(event));
          if (i % 70 === 0) {
            const bad = hostile[(i / 70) % hostile.length]!;
            pipelineCmd.xadd(topic, '*', 'data', deepJsonText(bad));
          }
        });
        await pipelineCmd.exec();
        const sentHostile = Math.ceil(good.length / 70);
        await waitUntil(
          async () =>
            (await redis.xlen(`${topic}:dlq`)) >= sentHostile &&
            running.metrics.total('written') >= good.length,
          30_000,
          'every good event written and every hostile one dead-lettered',
        );
        // Not retried for a minute: dead-lettered within seconds, on the first attempt, no retry hop.
        expect(performance.now() - started).toBeLessThan(20_000);
        const letters = (await redis.xrange(`${topic}:dlq`, '-', '+')) as [string, string[]][];
        expect(letters).toHaveLength(sentHostile);
        for (const [, fields] of letters) {
          const header = (name: string): string | undefined => fields[fields.indexOf(name) + 1];
          expect(header('larder-attempts') ?? header('attempts')).toBe('1');
        }
        for (const key of await redis.keys(`${topic}:retry:*`)) expect(await redis.xlen(key)).toBe(0);
        const [rows] = await pipeline.store.getRanges([
          { pk: `u:${good[0]!.user_id}#recent_items`, count: 10_000, lastNSec: undefined },
        ]);
        expect(rows?.length).toBe(good.filter((e) => e.user_id === good[0]!.user_id).length);
      } finally {
        await running.stop();
        await pipeline.close();
        const keys = await redis.keys(`${topic}*`);
        if (keys.length > 0) await redis.del(...keys);
        reg.remove();
        data.remove();
      }
    },
  );
});
