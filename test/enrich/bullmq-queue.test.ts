import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { BullmqInvocationQueue } from '../../src/enrich/bullmq-invocation-queue.ts';
import { describeQueueConformance } from './queue-conformance.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';

describeQueueConformance('bullmq', async () => {
  // A random prefix per run: the suite shares Redis with other runs and never collides with them.
  const prefix = `larder-test-${randomUUID().slice(0, 8)}`;
  return {
    purges: false,
    open: async () => new BullmqInvocationQueue({ redisUrl: REDIS_URL, prefix, retentionMs: 3_600_000 }),
    async cleanup() {
      const redis = new Redis(REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
});
