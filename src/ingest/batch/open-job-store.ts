import path from 'node:path';
import { openLmdbEnv } from '../../store/lmdb/lmdb-env.ts';
import type { BatchConfig } from '../../config/batch-section.ts';
import type { JobStore } from './jobs/job-store.ts';
import { LmdbJobStore } from './jobs/lmdb-job-store.ts';

/**
 * Just the job store of the configured mode, for commands that only read or flag jobs
 * (`larder jobs list|show|cancel`) and need no registry or runner. Closing it releases everything.
 */
export async function openJobStore(config: BatchConfig, dataDir: string): Promise<JobStore> {
  if (config.mode === 'distributed') {
    const { RedisJobStore } = await import('./jobs/redis-job-store.ts');
    return new RedisJobStore({ url: config.redisUrl, prefix: `${config.prefix}:batch:` });
  }
  return new LmdbJobStore(openLmdbEnv(path.resolve(dataDir)), { ownsEnv: true });
}
