import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { LarderConfig } from '../config/load-config.ts';
import type { InvocationQueue } from '../enrich/invocation-queue.ts';
import { openInvocationQueue } from '../enrich/open-invocation-queue.ts';
import { openLmdbEnv } from '../store/lmdb/lmdb-env.ts';

/**
 * Opens the enrichment queue of the config (`enrich.mode`) for a one-shot command (`larder dlq
 * --enricher`), runs `use`, and closes it. The embedded queue lives in `dataDir`'s LMDB file.
 */
export async function withInvocationQueue<T>(
  config: LarderConfig,
  dataDir: string,
  use: (queue: InvocationQueue) => Promise<T>,
): Promise<T> {
  mkdirSync(dataDir, { recursive: true });
  const env = openLmdbEnv(path.resolve(dataDir));
  try {
    const queue = await openInvocationQueue(config.enrich, env);
    try {
      return await use(queue);
    } finally {
      await queue.close();
    }
  } finally {
    await env.close();
  }
}
