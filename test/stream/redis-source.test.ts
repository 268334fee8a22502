import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { readConsumerOptions } from '../../src/registry/stream-options.ts';
import { HEADER } from '../../src/ingest/stream/delivery-headers.ts';
import { createRedisSources, openRedisDeadLetters } from '../../src/ingest/stream/redis-source.ts';
import { payloadText } from '../../src/ingest/stream/stream-source.ts';
import { defaultStream } from '../../src/registry/compile-stream.ts';
import type { StreamDef } from '../../src/registry/types.ts';
import { describeSourceConformance, type ConformanceHarness } from './source-conformance.ts';

const URL = 'redis://127.0.0.1:6379';
const redis = new Redis(URL);
afterAll(() => redis.quit());

async function dropKeys(prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}

const harness: ConformanceHarness = {
  source: 'redis',
  connection: { url: URL },
  retryStyle: 'republish',
  async newTopic() {
    const topic = `larder-test:${randomBytes(6).toString('hex')}`;
    return {
      topic,
      options: { consumerName: `c-${randomBytes(3).toString('hex')}`, fetchWait: '100ms' },
      async publish(payloads) {
        const pipeline = redis.pipeline();
        for (const p of payloads) pipeline.xadd(topic, '*', 'data', p);
        await pipeline.exec();
      },
      async readDeadLetters() {
        const entries = (await redis.xrange(`${topic}:dlq`, '-', '+')) as [string, string[]][];
        return entries.map(([, fields]) => {
          const headers: Record<string, string> = {};
          let payload = '';
          for (let i = 0; i < fields.length; i += 2) {
            if (fields[i] === 'data') payload = fields[i + 1]!;
            else headers[fields[i]!] = fields[i + 1]!;
          }
          return { payload, headers };
        });
      },
      cleanup: () => dropKeys(topic),
    };
  },
};

describeSourceConformance('Redis Streams source (conformance)', harness);

describe('Redis Streams source specifics', () => {
  const def = (topic: string, consumerName: string, extra: Record<string, unknown> = {}): StreamDef => ({
    ...defaultStream('events', true),
    source: 'redis',
    connection: { url: URL },
    options: { consumerName, claimIdle: '300ms', ...extra },
  });

  it('claims the entries a dead consumer left pending (XAUTOCLAIM)', async () => {
    const topic = `larder-test:${randomBytes(6).toString('hex')}`;
    try {
      for (let i = 0; i < 5; i += 1) await redis.xadd(topic, '*', 'data', JSON.stringify({ i }));
      const [dead] = createRedisSources(def(topic, 'dead'), topic, [1000]);
      await dead!.start();
      const held = await dead!.fetch({ max: 5, waitMs: 100 });
      expect(held).toHaveLength(5);
      await dead!.close(); // dies without acking

      const [alive] = createRedisSources(def(topic, 'alive'), topic, [1000]);
      await alive!.start();
      await new Promise((r) => setTimeout(r, 400)); // past claimIdle
      const claimed = [];
      for (let i = 0; i < 20 && claimed.length < 5; i += 1)
        claimed.push(...(await alive!.fetch({ max: 5, waitMs: 100 })));
      expect(claimed.map((m) => m.offset)).toEqual(held.map((m) => m.offset));
      await alive!.ack(claimed);
      const pending = (await redis.xpending(topic, 'larder')) as [number, ...unknown[]];
      expect(pending[0]).toBe(0);
      await alive!.close();
    } finally {
      await dropKeys(topic);
    }
  });

  it('acks of one event-loop turn go out as one XACK, and each caller resolves once acked', async () => {
    const topic = `larder-test:${randomBytes(6).toString('hex')}`;
    const monitor = await redis.monitor();
    try {
      for (let i = 0; i < 6; i += 1) await redis.xadd(topic, '*', 'data', JSON.stringify({ i }));
      const [source] = createRedisSources(def(topic, 'acker'), topic, [1000]);
      await source!.start();
      const fetched = await source!.fetch({ max: 6, waitMs: 100 });
      expect(fetched).toHaveLength(6);
      const xacks: string[][] = [];
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[0]?.toLowerCase() === 'xack' && args[1] === topic) xacks.push(args.slice(3));
      });
      // Three micro-batches finishing in the same turn (one store commit finished them all).
      await Promise.all([
        source!.ack(fetched.slice(0, 2)),
        source!.ack(fetched.slice(2, 3)),
        source!.ack(fetched.slice(3)),
      ]);
      const pending = (await redis.xpending(topic, 'larder')) as [number, ...unknown[]];
      expect(pending[0]).toBe(0);
      // A later turn's acks form a command of their own.
      await source!.ack(fetched.slice(0, 1));
      await redis.ping(); // MONITOR output of earlier commands has arrived once this answers
      await new Promise((r) => setTimeout(r, 50));
      expect(xacks).toEqual([fetched.map((m) => m.offset), [fetched[0]!.offset]]);
      await source!.close();
    } finally {
      monitor.disconnect();
      await dropKeys(topic);
    }
  });

  it('touching slow messages keeps them from being claimed away', async () => {
    const topic = `larder-test:${randomBytes(6).toString('hex')}`;
    try {
      await redis.xadd(topic, '*', 'data', '{}');
      const [slow] = createRedisSources(def(topic, 'slow'), topic, [1000]);
      await slow!.start();
      const held = await slow!.fetch({ max: 1, waitMs: 100 });
      const [other] = createRedisSources(def(topic, 'other'), topic, [1000]);
      await other!.start();
      for (let i = 0; i < 6; i += 1) {
        await new Promise((r) => setTimeout(r, 100));
        await slow!.touch!(held);
      }
      // Idle time was reset every 100 ms, so the 300 ms claim threshold was never reached.
      expect(await other!.fetch({ max: 1, waitMs: 100 })).toEqual([]);
      await slow!.close();
      await other!.close();
    } finally {
      await dropKeys(topic);
    }
  });

  it('lists, shows and replays broker dead letters with their original identity', async () => {
    const topic = `larder-test:${randomBytes(6).toString('hex')}`;
    try {
      await redis.xadd(topic, '*', 'data', JSON.stringify({ a: 1 }));
      const d = def(topic, 'dlq');
      const [main] = createRedisSources(d, topic, readConsumerOptions('events', d.options).retryDelaysMs);
      await main!.start();
      const [m] = await main!.fetch({ max: 1, waitMs: 100 });
      await main!.deadLetter(m!, {
        attempts: 1,
        code: 'LARDER_ERR_EVENT_TYPE',
        error: 'bad',
        firstFailureAt: 1,
      });
      await main!.ack([m!]);

      const dlq = openRedisDeadLetters(d, topic);
      expect(await dlq.count()).toBe(1);
      const [letter] = await dlq.list();
      expect(letter!.payload).toBe(payloadText(m!.payload));
      expect((await dlq.get(letter!.id))?.headers[HEADER.lastError]).toBe('bad');
      expect(await dlq.replay([letter!.id])).toEqual([letter!.id]);
      expect(await dlq.count()).toBe(0);
      await expect(dlq.replay(['0-1'])).rejects.toMatchObject({ code: 'LARDER_ERR_DLQ_NOT_FOUND' });

      const [again] = await main!.fetch({ max: 1, waitMs: 200 });
      expect(payloadText(again!.payload)).toBe(payloadText(m!.payload));
      // Same publication time as the first delivery, so the row timestamp and id are the same.
      expect(again!.headers.originPublishedAt).toBe(m!.publishedAt);
      expect(again!.headers.attempts).toBe(0);
      await dlq.close();
      await main!.close();
    } finally {
      await dropKeys(topic);
    }
  });

  it('refuses a bad option with a stable code', () => {
    expect(() => createRedisSources(def('t', 'c', { startFrom: 'middle' }), 't', [1000])).toThrow(
      expect.objectContaining({ code: 'LARDER_ERR_STREAM_OPTION' }),
    );
  });
});
