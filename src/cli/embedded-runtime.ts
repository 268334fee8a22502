import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadRegistry } from '../spec/load.ts';
import { RegistryHolder } from '../spec/registry-holder.ts';
import { watchRegistry } from '../spec/watch.ts';
import { formatSpecIssues } from '../spec/load.ts';
import { openLmdbEnv } from '../store/lmdb-env.ts';
import { LmdbStore } from '../store/lmdb-store.ts';
import { LmdbDeadLetterStore } from '../store/lmdb-dead-letters.ts';
import { startPurger } from '../store/purger.ts';
import { createIngestor } from '../ingest/ingestor.ts';
import type { ServeContext } from '../serve/context.ts';

export interface EmbeddedRuntimeOptions {
  readonly registryDir: string;
  readonly dataDir: string;
  readonly logger: Logger;
  /** Watch the registry directory and apply valid changes without restart. Default true. */
  readonly watch?: boolean;
}

export interface EmbeddedRuntime {
  readonly ctx: ServeContext;
  close(): Promise<void>;
}

/**
 * Assembles the embedded default: the registry (validated before anything starts), LMDB store and
 * dead-letter table in `dataDir`, the in-process ingestor, the registry watcher and the TTL purger.
 */
export async function openEmbeddedRuntime(options: EmbeddedRuntimeOptions): Promise<EmbeddedRuntime> {
  const registryDir = path.resolve(options.registryDir);
  const registry = new RegistryHolder(await loadRegistry(registryDir));
  const { logger } = options;

  mkdirSync(options.dataDir, { recursive: true });
  const env = openLmdbEnv(path.resolve(options.dataDir));
  const store = new LmdbStore(env);
  await store.open();
  const deadLetters = new LmdbDeadLetterStore(env);
  const ingestor = createIngestor({ registry, store, deadLetters, logger });
  const purger = startPurger(store, { intervalMs: 60_000, logger });

  const watcher =
    options.watch === false
      ? undefined
      : watchRegistry(registryDir, registry, {
          onApplied: (next) => logger.info({ version: next.version }, 'registry reloaded'),
          onRejected: (issues) =>
            logger.error(
              { issues },
              `registry change rejected; the running registry stays in force:\n${formatSpecIssues(issues)}`,
            ),
        });

  const ctx: ServeContext = {
    registry,
    store,
    deadLetters,
    logger,
    ingest: (events) => ingestor.ingest(events, { origin: 'http' }),
  };

  return {
    ctx,
    async close() {
      watcher?.close();
      await purger.stop();
      await store.close();
      await env.close();
    },
  };
}
