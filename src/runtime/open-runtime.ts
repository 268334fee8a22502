import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadRegistry } from '../registry/load.ts';
import { RegistryHolder } from '../registry/registry-holder.ts';
import { watchRegistry } from '../registry/watch.ts';
import { formatSpecIssues } from '../registry/load.ts';
import { openLmdbEnv } from '../store/lmdb/lmdb-env.ts';
import { loadConfig } from '../config/config.ts';
import { createStoreFromConfig } from './create-store.ts';
import { LmdbDeadLetterStore } from '../store/lmdb/lmdb-dead-letters.ts';
import { startPurger } from '../store/purger.ts';
import { createIngestor } from '../ingest/ingestor.ts';
import { CacheMetrics } from '../cache/cache-metrics.ts';
import type { ServeMetrics } from '../serve/metrics.ts';
import type { ServeContext } from '../serve/context.ts';
import type { Ingestor } from '../ingest/ingestor-contract.ts';

export interface RuntimeOptions {
  readonly registryDir: string;
  readonly dataDir: string;
  readonly logger: Logger;
  /** Watch the registry directory and apply valid changes without restart. Default true. */
  readonly watch?: boolean;
  /** Runtime config file (store, cache levels). Without it: `LARDER_CONFIG`, else the embedded default. */
  readonly configFile?: string;
  /**
   * The server's metrics: the cache levels report their hits into it and their own registry is
   * served on its `/metrics`.
   */
  readonly metrics?: ServeMetrics;
}

export interface Runtime {
  readonly ctx: ServeContext;
  /** The write path, for broker consumers started beside the server. */
  readonly ingestor: Ingestor;
  /** The LMDB environment in the data directory (dead letters, and the batch job store). */
  readonly lmdbEnv: ReturnType<typeof openLmdbEnv>;
  close(): Promise<void>;
}

/**
 * Assembles a running Larder: the registry and config (both validated before anything starts), the
 * online store the config names (LMDB by default, behind the layered cache), the dead-letter table in
 * `dataDir`, the in-process ingestor, the registry watcher and the TTL purger.
 */
export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const registryDir = path.resolve(options.registryDir);
  const registry = new RegistryHolder(await loadRegistry(registryDir));
  const { logger } = options;
  // Validate the config before anything opens, so a bad file fails fast and touches nothing.
  const config = loadConfig(options.configFile);

  mkdirSync(options.dataDir, { recursive: true });
  const env = openLmdbEnv(path.resolve(options.dataDir));
  const store = createStoreFromConfig(config, {
    registry,
    dataDir: options.dataDir,
    lmdbEnv: env,
    logger,
    ...(options.metrics === undefined ? {} : { cacheMetrics: cacheMetricsFor(options.metrics) }),
  });
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
    ingestor,
    lmdbEnv: env,
    async close() {
      watcher?.close();
      await purger.stop();
      await store.close();
      await env.close();
    },
  };
}

function cacheMetricsFor(metrics: ServeMetrics): CacheMetrics {
  const cacheMetrics = new CacheMetrics({ sink: metrics });
  metrics.include(cacheMetrics.registry);
  return cacheMetrics;
}
