import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Registry as PromRegistry } from 'prom-client';
import type { LarderConfig } from '../config/load-config.ts';
import { CacheMetrics } from '../cache/cache-metrics.ts';
import { isLayeredStore } from '../cache/layered-store.ts';
import { createEnrichments } from '../enrich/enrichments.ts';
import { startEnrichWorkers, type RunningEnrichWorkers } from '../enrich/enrich-workers.ts';
import type { InvocationQueue } from '../enrich/invocation-queue.ts';
import { openInvocationQueue } from '../enrich/open-invocation-queue.ts';
import { withTriggers } from '../enrich/triggers.ts';
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
import { openDeployedRegistry, type DeployedRegistry } from './deployed-registry.ts';
import { readPersistedQueries } from './registry/registry-plan.ts';
import { RegistryVersionStore } from './registry/version-store.ts';
import { storeFromConfig } from '../store/store-from-config.ts';
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
  /** What this process is in the registry rollout's process list (`serve`, `ingest`…). Default `serve`. */
  readonly role?: string;
  /** `--registry-poll`: how often a Git registry source is fetched. Default 30 s. */
  readonly registryPollMs?: number;
}

export interface Runtime {
  readonly config: LarderConfig;
  /** What serving reads: the registry as deployed (stream overrides applied), the store, dead letters. */
  readonly ctx: ServeContext;
  /**
   * The write path: HTTP pushes, broker consumers, dead-letter replays, enrichment results. Every
   * event it takes also queues the invocations of the enrichers it triggers.
   */
  readonly ingestor: Ingestor;
  /** The enrichment invocation queue of the config's `enrich.mode`. */
  readonly queue: InvocationQueue;
  /** The LMDB environment in the data directory (dead letters, and the embedded batch job store). */
  readonly lmdbEnv: LmdbEnv;
  /** What the admin API and the web console show of this runtime (`createServer`'s `admin`). */
  readonly admin: AdminSources;
  /** The registry rollout's metrics (`larder_registry_refused`, `larder_registry_applied_seq`), when it runs. */
  readonly registryMetrics: PromRegistry | undefined;
  /** Starts a consumer for every broker-bound topic of the registry; `close()` drains them. */
  startConsumers(): Promise<RunningConsumers>;
  /** Starts the batch scheduler, runtime and watchdog of the config's `batch:` mode; `close()` stops them. */
  startBatchServices(): Promise<BatchServices>;
  /** Starts a worker for every enricher of the registry (and follows reloads); `close()` drains them. */
  startEnrichWorkers(): Promise<RunningEnrichWorkers>;
  /** Stops what it started, consumers first (their in-flight work finishes), the store last. */
  close(): Promise<void>;
}

/**
 * Assembles a running Larder from the config file, the one place that does: the registry (with
 * the config's stream overrides; validated before anything opens), the store the config names
 * behind its cache levels, the dead-letter table in `dataDir`, the enrichment queue, the ingestor
 * (which queues triggered enrichments), the registry watcher and the TTL purger; on request, the
 * broker consumers, the batch services and the enrichment workers.
 */
export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { logger } = options;
  const config = options.config ?? readConfig(options.configFile);
  const watch = options.watch !== false;
  mkdirSync(options.dataDir, { recursive: true });
  const env = openLmdbEnv(path.resolve(options.dataDir));
  // The registry versions live in the store itself, read without the cache levels (docs/registry.md).
  const versionsBacking = watch
    ? storeFromConfig(config.store, { dataDir: options.dataDir, lmdbEnv: env })
    : undefined;
  let deployed: DeployedRegistry;
  try {
    await versionsBacking?.open();
    deployed = await openDeployedRegistry({
      registryDir: options.registryDir,
      config,
      logger,
      watch,
      ...(versionsBacking === undefined
        ? {}
        : {
            versions: new RegistryVersionStore(versionsBacking),
            persistedQueries: () => readPersistedQueries(versionsBacking),
          }),
      role: options.role ?? 'serve',
      ...(options.registryPollMs === undefined ? {} : { pollMs: options.registryPollMs }),
    });
  } catch (err) {
    await versionsBacking?.close().catch(() => undefined);
    await env.close();
    throw err;
  }
  if (deployed.rollout !== undefined) options.metrics?.include(deployed.rollout.metrics);
  const registry = deployed.registry;

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
    await deployed.close();
    await versionsBacking?.close();
    await env.close();
    throw err;
  }
  const deadLetters = new LmdbDeadLetterStore(env);
  const queue = await openInvocationQueue(config.enrich, env);
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
  const observed: Ingestor = {
    async ingest(events, ingestOptions) {
      const report = await writer.ingest(events, ingestOptions);
      history.observeIngest(events, report);
      return report;
    },
  };
  // Every event written also queues the invocations of the enrichers it triggers.
  const ingestor = withTriggers(observed, { registry, queue });
  if (watch) history.start();
  const purger = watch ? startPurger(store, { intervalMs: 60_000, logger }) : undefined;
  let consumers: RunningConsumers | undefined;
  let batch: BatchServices | undefined;
  let enrichWorkers: Promise<RunningEnrichWorkers> | undefined;
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
    deployed,
    runningBatch: () => batch?.runtime,
  });

  const ctx: ServeContext = {
    registry,
    store,
    deadLetters,
    logger,
    ingest: (events) => ingestor.ingest(events, { origin: 'http' }),
    enrichments: createEnrichments({ registry, queue }),
  };

  return {
    config,
    ctx,
    ingestor,
    queue,
    lmdbEnv: env,
    admin: consoleParts.admin,
    registryMetrics: deployed.rollout?.metrics,
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
        // The task threads write the store directly: the hot caches in front of it start over.
        onTaskWrites: () => {
          if (isLayeredStore(store)) store.noteWritesElsewhere();
        },
      });
      return batch;
    },
    async startEnrichWorkers() {
      enrichWorkers ??= startEnrichWorkers({ registry, queue, ingestor, config: config.enrich, logger });
      const workers = await enrichWorkers;
      options.metrics?.include(workers.metrics.registry);
      return workers;
    },
    async close() {
      // Workers first: their last results go through the consumers' store and the broker publishers.
      await (await enrichWorkers)?.stop();
      history.stop();
      await consumers?.stop();
      await batch?.close();
      await consoleParts.close();
      await deployed.close();
      await purger?.stop();
      await queue.close();
      await versionsBacking?.close();
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
