import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import {
  brokerDlqTargets,
  listBrokerDeadLetters,
  replayBrokerDeadLetters,
  showBrokerDeadLetter,
  summariseBrokerDeadLetters,
} from '../../src/ingest/stream/broker-dlq.ts';
import { HEADER } from '../../src/ingest/stream/delivery-headers.ts';
import { startConsumers } from '../../src/ingest/stream/start-consumers.ts';
import { tempDir } from '../support/temp-dir.ts';
import { makeEvents, openPipeline, readState, writeTestRegistry } from './fixtures/pipeline.ts';
import { waitUntil } from '../support/wait-until.ts';

const redis = new Redis('redis://127.0.0.1:6379');
afterAll(() => redis.quit());

describe('broker DLQ inspection and replay (Redis Streams)', () => {
  it(
    'lists, shows and replays dead letters; replayed poison returns to the DLQ and good rows stay unique',
    { timeout: 30_000 },
    async () => {
      const topic = `larder-dlq:${randomBytes(5).toString('hex')}`;
      const reg = tempDir('larder-dlq-reg-');
      const data = tempDir('larder-dlq-data-');
      try {
        writeTestRegistry(reg.dir, {
          source: 'redis',
          connection: { url: 'redis://127.0.0.1:6379' },
          topic,
          options: { fetchWait: '50ms' },
        });
        const events = makeEvents(40, 4, 10); // 4 poison
        for (const e of events) await redis.xadd(topic, '*', 'data', JSON.stringify(e));
        const pipeline = await openPipeline(reg.dir, data.dir);
        const registry = pipeline.registry.current;
        expect(brokerDlqTargets(registry)).toEqual([{ stream: 'events', topic }]);

        const logger = pino({ level: 'silent' });
        let running = await startConsumers({
          registry: pipeline.registry,
          ingestor: pipeline.ingestor,
          logger,
          dataDir: data.dir,
        });
        await waitUntil(() => running.metrics.total('rejected') >= 4, 15_000, '4 events rejected');
        await running.stop();

        const [summary] = await summariseBrokerDeadLetters(registry);
        expect(summary).toMatchObject({ stream: 'events', topic, source: 'redis', count: 4 });
        const target = { stream: 'events', topic };
        const letters = await listBrokerDeadLetters(registry, target, { limit: 2 });
        expect(letters).toHaveLength(2);
        const rest = await listBrokerDeadLetters(registry, target, { after: letters[1]!.id });
        expect(rest).toHaveLength(2);
        const one = await showBrokerDeadLetter(registry, target, letters[0]!.id);
        expect(one.headers[HEADER.errorCode]).toBe('LARDER_ERR_EVENT_TYPE');
        await expect(showBrokerDeadLetter(registry, target, '1-1')).rejects.toMatchObject({
          code: 'LARDER_ERR_DLQ_NOT_FOUND',
        });

        // Replayed as they are, they are poison again and come back to the DLQ: nothing is lost.
        const replayed = await replayBrokerDeadLetters(registry, target, 'all');
        expect(replayed).toHaveLength(4);
        running = await startConsumers({
          registry: pipeline.registry,
          ingestor: pipeline.ingestor,
          logger,
          dataDir: data.dir,
        });
        await waitUntil(() => running.metrics.total('rejected') >= 4, 15_000, '4 events rejected');
        await running.stop();
        expect((await summariseBrokerDeadLetters(registry))[0]!.count).toBe(4);
        const state = await readState(pipeline.store, 4);
        expect([...state.values()].reduce((n, s) => n + s.rows.length, 0)).toBe(36);
        await pipeline.close();
      } finally {
        const keys = await redis.keys(`${topic}*`);
        if (keys.length > 0) await redis.del(...keys);
        reg.remove();
        data.remove();
      }
    },
  );
});
