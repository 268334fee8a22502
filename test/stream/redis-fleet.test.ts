import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runFleetScenario } from './fixtures/fleet-harness.ts';

/**
 * Several ingest processes on one Redis stream, as a fleet: one consumer group, one consumer name
 * per process. Two run, one is SIGKILLed mid-stream (its fetched, unacknowledged entries stay
 * pending under its name), a third joins; the survivors claim the dead one's entries with
 * XAUTOCLAIM once they are idle for `claimIdle`. Every row exact, nothing twice.
 */
const URL = 'redis://127.0.0.1:6379';
const redis = new Redis(URL);
afterAll(() => redis.quit());

async function groupDone(key: string): Promise<boolean> {
  if ((await redis.exists(key)) === 0) return true;
  const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
  for (const raw of groups) {
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < raw.length; i += 2) info.set(String(raw[i]), raw[i + 1]);
    if (info.get('name') === 'larder') return info.get('lag') === 0 && info.get('pending') === 0;
  }
  return false;
}

async function pendingOf(topic: string, consumer: string): Promise<number> {
  const consumers = (await redis.xinfo('CONSUMERS', topic, 'larder')) as unknown[][];
  for (const c of consumers) if (String(c[1]) === consumer) return Number(c[3]);
  return 0;
}

describe('Redis Streams: a fleet of ingest processes on one stream', () => {
  it(
    'two processes, one SIGKILLed mid-stream and a third started: every row exact, poison dead-lettered',
    { timeout: 180_000 },
    async () => {
      const topic = `larder-fleet:${randomBytes(6).toString('hex')}`;
      let pendingAtKill = 0;
      try {
        const result = await runFleetScenario({
          source: 'redis',
          connection: { url: URL },
          topic,
          options: { claimIdle: '2s', fetchWait: '100ms' },
          events: 20_000,
          users: 300,
          poisonEvery: 53,
          env: (n) => ({ LARDER_CONSUMER_NAME: `fleet-${n}` }),
          async publish(payloads) {
            const pipeline = redis.pipeline();
            for (const p of payloads) pipeline.xadd(topic, '*', 'data', p);
            await pipeline.exec();
          },
          async drained() {
            const keys = [topic, ...(await redis.keys(`${topic}:retry:*`))];
            for (const key of keys) if (!(await groupDone(key))) return false;
            return true;
          },
          // Killed while it holds fetched, unacknowledged entries: only a claim recovers them.
          killWhen: async () => (await pendingOf(topic, 'fleet-0')) > 0,
          async afterKill() {
            pendingAtKill = await pendingOf(topic, 'fleet-0');
          },
          async deadLetterIds() {
            const entries = (await redis.xrange(`${topic}:dlq`, '-', '+')) as [string, string[]][];
            return entries.map(
              ([, f]) => (JSON.parse(f[f.indexOf('data') + 1]!) as { event_id: string }).event_id,
            );
          },
        });
        expect(result.rowsAtKill).toBeGreaterThan(0);
        // The killed consumer held entries it never acknowledged; the others claimed all of them.
        expect(pendingAtKill).toBeGreaterThan(0);
        expect(await pendingOf(topic, 'fleet-0')).toBe(0);
      } finally {
        const keys = await redis.keys(`${topic}*`);
        if (keys.length > 0) await redis.del(...keys);
      }
    },
  );
});
