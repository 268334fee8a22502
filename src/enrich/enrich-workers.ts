import type { Logger } from 'pino';
import type { EnrichConfig } from '../config/enrich-section.ts';
import type { Ingestor } from '../ingest/ingestor-contract.ts';
import type { RegistryHolder } from '../registry/registry-holder.ts';
import type { EnricherDef, Registry } from '../registry/types.ts';
import { Destinations } from './destinations.ts';
import { EnrichMetrics } from './enrich-metrics.ts';
import { EnricherWorker } from './enricher-worker.ts';
import { createHandler } from './handlers/create-handler.ts';
import type { EnrichmentHandler } from './handlers/handler.ts';
import { ModulePool } from './handlers/module-pool.ts';
import type { InvocationQueue } from './invocation-queue.ts';

export interface StartEnrichWorkersOptions {
  readonly registry: RegistryHolder;
  readonly queue: InvocationQueue;
  /** The write path: results for `http` destination streams are ingested through it. */
  readonly ingestor: Ingestor;
  readonly config: EnrichConfig;
  readonly logger: Logger;
  readonly metrics?: EnrichMetrics;
}

export interface RunningEnrichWorkers {
  readonly metrics: EnrichMetrics;
  /** The worker of one enricher, while it runs. */
  worker(enricher: string): EnricherWorker | undefined;
  workers(): readonly EnricherWorker[];
  /** Stops taking work, lets the calls in flight finish, stops the handlers. */
  stop(): Promise<void>;
}

interface Running {
  readonly def: EnricherDef;
  readonly signature: string;
  readonly worker: EnricherWorker;
  readonly handler: EnrichmentHandler;
}

/**
 * Starts a worker for every enricher of the registry, sharing one module-thread pool, and follows
 * registry reloads: an enricher that appears gets a worker, one that disappears or changes is
 * drained and stopped (and started again with its new definition). Succeeded invocations older
 * than `enrich.retention` are purged from the queue every minute.
 */
export async function startEnrichWorkers(options: StartEnrichWorkersOptions): Promise<RunningEnrichWorkers> {
  const { registry, queue, config, logger } = options;
  const metrics = options.metrics ?? new EnrichMetrics();
  const pool = new ModulePool({ size: config.threads });
  const destinations = new Destinations({ registry, ingestor: options.ingestor });
  const running = new Map<string, Running>();
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;

  function start(def: EnricherDef): void {
    const handler = createHandler(def, {
      pool,
      logger,
      onBreakerChange: (enricher, state) => logger.warn({ enricher, state }, 'enrich: http handler breaker'),
    });
    const worker = new EnricherWorker({
      def,
      queue,
      handler,
      destinations,
      settings: config,
      metrics,
      logger,
    });
    worker.start();
    running.set(def.name, { def, signature: signature(def), worker, handler });
    logger.info(
      { enricher: def.name, handler: def.handler.kind, concurrency: def.concurrency },
      'enrich: worker started',
    );
  }

  async function stop(name: string): Promise<void> {
    const entry = running.get(name);
    if (entry === undefined) return;
    running.delete(name);
    await entry.worker.stop();
    await entry.handler.close();
  }

  async function reconcile(next: Registry): Promise<void> {
    for (const [name, entry] of [...running]) {
      const def = next.enrichers.get(name);
      if (def === undefined || signature(def) !== entry.signature) await stop(name);
    }
    for (const def of next.enrichers.values()) if (!running.has(def.name) && !stopped) start(def);
  }

  await reconcile(registry.current);
  const modules = [...registry.current.enrichers.values()].flatMap((d) =>
    d.handler.kind === 'module' ? [d.handler.path] : [],
  );
  if (modules.length > 0) pool.warm(modules);
  const unsubscribe = registry.onChange((next) => {
    chain = chain
      .then(() => reconcile(next))
      .catch((err: unknown) => logger.error({ err }, 'enrich: applying the new registry failed'));
  });
  const purgeTimer = setInterval(
    () => {
      for (const name of running.keys()) {
        queue
          .purge(name, Date.now() - config.retentionMs)
          .catch((err: unknown) =>
            logger.warn({ err, enricher: name }, 'enrich: purging old invocations failed'),
          );
      }
    },
    Math.min(config.retentionMs, 60_000),
  );
  purgeTimer.unref();

  return {
    metrics,
    worker: (enricher) => running.get(enricher)?.worker,
    workers: () => [...running.values()].map((r) => r.worker),
    async stop() {
      stopped = true;
      unsubscribe();
      clearInterval(purgeTimer);
      await chain;
      await Promise.all([...running.keys()].map((name) => stop(name)));
      await pool.close();
      await destinations.close();
    },
  };
}

/** What makes two definitions of an enricher run the same way (its place in the file does not). */
function signature(def: EnricherDef): string {
  const { pos: _pos, ...rest } = def;
  return JSON.stringify(rest);
}
