import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { LarderConfig } from '../config/load-config.ts';
import type { InvocationQueue } from '../enrich/invocation-queue.ts';
import { openInvocationQueue } from '../enrich/open-invocation-queue.ts';
import { openLmdbEnv } from '../store/lmdb/lmdb-env.ts';

/**
 * Opens the enrichment queue of the config (`enrich.mode`) for a one-shot command (`larder dlq
 * --enricher`), runs `use`, and closes it. The embedded queue lives in `dataDir`'s LMDB file; the
 * distributed one in Redis, and then `dataDir` is not touched.
 */
export async function withInvocationQueue<T>(
  config: LarderConfig,
  dataDir: string,
  use: (queue: InvocationQueue) => Promise<T>,
): Promise<T> {
  // Distributed mode needs no data directory at all.
  const embedded = config.enrich.mode === 'embedded';
  if (embedded) mkdirSync(dataDir, { recursive: true });
  const env = embedded ? openLmdbEnv(path.resolve(dataDir)) : undefined;
  try {
    const queue = await openInvocationQueue(config.enrich, env);
    try {
      return await use(queue);
    } finally {
      await queue.close();
    }
  } finally {
    await env?.close();
  }
}
