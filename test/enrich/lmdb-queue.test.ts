import { LmdbInvocationQueue } from '../../src/enrich/lmdb-invocation-queue.ts';
import { openLmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { tempDir } from '../support/temp-dir.ts';
import { describeQueueConformance } from './queue-conformance.ts';

describeQueueConformance('lmdb', async () => {
  const tmp = tempDir('larder-queue-');
  const env = openLmdbEnv(tmp.dir);
  return {
    purges: true,
    open: async () => new LmdbInvocationQueue(env),
    async cleanup() {
      await env.close();
      tmp.remove();
    },
  };
});
