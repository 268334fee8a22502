import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { LarderConfig } from '../config/load-config.ts';
import { CacheMetrics } from '../cache/cache-metrics.ts';
import { startBatchServices, type BatchServices } from '../ingest/batch/batch-services.ts';
import type { Ingestor } from '../ingest/ingestor-contract.ts';
import { createIngestor } from '../ingest/ingestor.ts';
import { startConsumers, type RunningConsumers } from '../ingest/stream/start-consumers.ts';
import type { AdminSources } from '../serve/admin/admin-sources.ts';
import type { ServeContext } from '../serve/context.ts';
import type { ServeMetrics } from '../serve/metrics.ts';
import { LmdbDeadLetterStore } from '../store/lmdb/lmdb-dead-letters.ts';
import { openLmdbEnv, type LmdbEnv } from '../store/lmdb/lmdb-env.ts';
import { startPurger } from '../store/purger.ts';
import { consoleSources } from './console/admin-sources.ts';
import { WriteActivity } from './console/feature-activity.ts';
import { HistoryClock } from './console/history-clock.ts';
import { StreamHistoryRecorder } from './console/stream-history.ts';
import { tapWrites } from './console/tap-writes.ts';
import { createStoreFromConfig } from './create-store.ts';
import { openDeployedRegistry } from './deployed-registry.ts';
import { readConfig } from './read-config.ts';

export interface RuntimeOptions {
  readonly registryDir: string;
  readonly dataDir: string;
  readonly logger: Logger;
  /** The config, already read (`readConfig`). Without it: `configFile`, else `LARDER_CONFIG`, else defaults. */
  readonly config?: LarderConfig;
  readonly configFile?: string;
  /**
   * A long-running process: watch the registry directory (valid changes apply without restart)
   * and purge expired rows. Default true; one-shot commands pass false.
   */
  readonly watch?: boolean;
  /**
   * The server's metrics: the cache levels report their hits into it, and their registry and the
   * consumers' are served on its `/metrics`.
   */
  readonly metrics?: ServeMetrics;
  /** Written into the dead letters of events ingested without an origin. Default `ingest`. */
  readonly defaultOrigin?: string;
  /** The clock of the console's history (stream charts, freshness). Default `Date.now`. */
  readonly now?: () => number;
}

export interface Runtime {
  readonly config: LarderConfig;
  /** What serving reads: the registry as deployed (stream overrides applied), the store, dead letters. */
  readonly ctx: ServeContext;
  /** The write path: HTTP pushes, broker consumers, dead-letter replays. */
  readonly ingestor: Ingestor;
  /** The LMDB environment in the data directory (dead letters, and the embedded batch job store). */
  readonly lmdbEnv: LmdbEnv;
  /** What the admin API and the web console show of this runtime (`createServer`'s `admin`). */
  readonly admin: AdminSources;
  /** Starts a consumer for every broker-bound topic of the registry; `close()` drains them. */
  startConsumers(): Promise<RunningConsumers>;
  /** Starts the batch scheduler, runtime and watchdog of the config's `batch:` mode; `close()` stops them. */
  startBatchServices(): Promise<BatchServices>;
  /** Stops what it started, consumers first (their in-flight work finishes), the store last. */
  close(): Promise<void>;
}

/**
 * Assembles a running Larder from the config file, the one place that does: the registry (with
 * the config's stream overrides; validated before anything opens), the store the config names
 * behind its cache levels, the dead-letter table in `dataDir`, the ingestor, the registry watcher
 * and the TTL purger; on request, the broker consumers and the batch services.
 */
export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { logger } = options;
  const config = options.config ?? readConfig(options.configFile);
  const watch = options.watch !== false;
  const deployed = await openDeployedRegistry({ registryDir: options.registryDir, config, logger, watch });
  const registry = deployed.registry;

  mkdirSync(options.dataDir, { recursive: true });
  const env = openLmdbEnv(path.resolve(options.dataDir));
  const store = createStoreFromConfig(config, {
    registry,
    dataDir: options.dataDir,
    lmdbEnv: env,
    logger,
    ...(options.metrics === undefined ? {} : { cacheMetrics: cacheMetricsFor(options.metrics) }),
  });
  try {
    await store.open();
  } catch (err) {
    deployed.close();
    await env.close();
    throw err;
  }
  const deadLetters = new LmdbDeadLetterStore(env);
  // The console's history: every batch the ingestor writes, by feature and by stream/topic.
  const clock = new HistoryClock(config.serve.console.sampleIntervalMs, options.now);
  const activity = new WriteActivity(registry, clock);
  const history = new StreamHistoryRecorder(registry, clock);
  const writer = createIngestor({
    registry,
    store: tapWrites(store, (writes) => activity.record(writes)),
    deadLetters,
    logger,
    ...(options.defaultOrigin === undefined ? {} : { defaultOrigin: options.defaultOrigin }),
  });
  const ingestor: Ingestor = {
    async ingest(events, ingestOptions) {
      const report = await writer.ingest(events, ingestOptions);
      history.observeIngest(events, report);
      return report;
    },
  };
  if (watch) history.start();
  const purger = watch ? startPurger(store, { intervalMs: 60_000, logger }) : undefined;
  let consumers: RunningConsumers | undefined;
  let batch: BatchServices | undefined;
  const consoleParts = consoleSources({
    config,
    registry,
    dataDir: options.dataDir,
    env,
    logger,
    ingestor,
    deadLetters,
    history,
    activity,
    registryStatus: deployed.status,
    runningBatch: () => batch?.runtime,
  });

  const ctx: ServeContext = {
    registry,
    store,
    deadLetters,
    logger,
    ingest: (events) => ingestor.ingest(events, { origin: 'http' }),
  };

  return {
    config,
    ctx,
    ingestor,
    lmdbEnv: env,
    admin: consoleParts.admin,
    async startConsumers() {
      consumers ??= await startConsumers({ registry, ingestor, logger, dataDir: options.dataDir });
      options.metrics?.include(consumers.metrics.registry);
      history.attachConsumers(consumers);
      return consumers;
    },
    async startBatchServices() {
      batch ??= await startBatchServices({
        config: config.batch,
        registry,
        dataDir: options.dataDir,
        store: config.store,
        env,
        logger,
      });
      return batch;
    },
    async close() {
      history.stop();
      await consumers?.stop();
      await batch?.close();
      await consoleParts.close();
      deployed.close();
      await purger?.stop();
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
