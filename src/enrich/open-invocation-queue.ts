import type { EnrichConfig } from '../config/enrich-section.ts';
import type { LmdbEnv } from '../store/lmdb/lmdb-env.ts';
import type { InvocationQueue } from './invocation-queue.ts';
import { LmdbInvocationQueue } from './lmdb-invocation-queue.ts';

/**
 * The queue of the config's `enrich.mode`: embedded, in the data directory's LMDB environment;
 * distributed, BullMQ on `enrich.redis` (loaded only then, so embedded mode never connects to Redis).
 */
export async function openInvocationQueue(
  config: EnrichConfig,
  /** The data directory's environment; only embedded mode needs it. */
  env: LmdbEnv | undefined,
): Promise<InvocationQueue> {
  if (config.mode === 'embedded') {
    if (env === undefined) throw new Error('the embedded invocation queue needs the LMDB environment');
    return new LmdbInvocationQueue(env);
  }
  const { BullmqInvocationQueue } = await import('./bullmq-invocation-queue.ts');
  return new BullmqInvocationQueue({
    redisUrl: config.redisUrl,
    prefix: config.prefix,
    retentionMs: config.retentionMs,
  });
}
