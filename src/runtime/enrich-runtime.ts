import type { Logger } from 'pino';
import type { Registry as PromRegistry } from 'prom-client';
import type { LarderConfig } from '../config/load-config.ts';
import type { RunningEnrichWorkers } from '../enrich/enrich-workers.ts';
import { openRuntime } from './open-runtime.ts';

export interface EnrichRuntimeOptions {
  readonly registry: string;
  readonly data: string;
  readonly config: LarderConfig;
  /** `--registry-poll`, ms. */
  readonly registryPollMs?: number;
}

export interface EnrichRuntime {
  readonly workers: RunningEnrichWorkers;
  /** The workers' metrics and the registry rollout's, as `--metrics-port` serves them (read at each scrape). */
  readonly metrics: readonly PromRegistry[];
  /** Lets the calls in flight finish, then closes the queue and the store. */
  close(): Promise<void>;
}

/**
 * What `larder enrich` runs: the runtime of the config file (its store and cache levels, where
 * results for `http` streams are written, and its stream bindings, where the others are published)
 * with a worker for every enricher of the registry, taking from the queue of `enrich.mode`, and no
 * server or consumers.
 */
export async function openEnrichRuntime(
  options: EnrichRuntimeOptions,
  logger: Logger,
): Promise<EnrichRuntime> {
  const runtime = await openRuntime({
    registryDir: options.registry,
    dataDir: options.data,
    logger,
    config: options.config,
    defaultOrigin: 'enrich',
    role: 'enrich',
    ...(options.registryPollMs === undefined ? {} : { registryPollMs: options.registryPollMs }),
  });
  try {
    const workers = await runtime.startEnrichWorkers();
    const metrics = [
      workers.metrics.registry,
      ...(runtime.registryMetrics === undefined ? [] : [runtime.registryMetrics]),
    ];
    return { workers, metrics, close: () => runtime.close() };
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
