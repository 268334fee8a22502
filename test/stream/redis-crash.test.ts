import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runCrashScenario, type CrashScenario } from './fixtures/crash-harness.ts';

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

function scenario(poisonEvery: number): CrashScenario & { cleanup(): Promise<void> } {
  const topic = `larder-crash:${randomBytes(6).toString('hex')}`;
  return {
    source: 'redis',
    connection: { url: URL },
    topic,
    options: { consumerName: 'crash-consumer', fetchWait: '100ms' },
    events: 20_000,
    users: 500,
    poisonEvery,
    kills: Number(process.env.LARDER_TEST_KILLS ?? 6),
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
    async deadLetterIds() {
      const entries = (await redis.xrange(`${topic}:dlq`, '-', '+')) as [string, string[]][];
      return entries.map(([, f]) => (JSON.parse(f[f.indexOf('data') + 1]!) as { event_id: string }).event_id);
    },
    async cleanup() {
      const keys = await redis.keys(`${topic}*`);
      if (keys.length > 0) await redis.del(...keys);
    },
  };
}

describe('Redis Streams: crash and restart', () => {
  it(
    'SIGKILLed 6 times while consuming 20,000 events: nothing lost, no duplicates, per-key order kept',
    { timeout: 120_000 },
    async () => {
      const s = scenario(0);
      try {
        const result = await runCrashScenario(s);
        expect(result.kills).toBe(6);
        // The kills landed while events were still arriving and being written.
        expect(result.rowsAtKills.filter((n) => n > 0 && n < 20_000).length).toBeGreaterThanOrEqual(3);
      } finally {
        await s.cleanup();
      }
    },
  );

  it(
    'with a poison mix: every poison message in the DLQ, every other one ingested',
    { timeout: 120_000 },
    async () => {
      const s = scenario(37);
      try {
        await runCrashScenario(s);
      } finally {
        await s.cleanup();
      }
    },
  );
});
