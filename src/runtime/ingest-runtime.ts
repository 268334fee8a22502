import type { Logger } from 'pino';
import type { Registry as PromRegistry } from 'prom-client';
import type { LarderConfig } from '../config/load-config.ts';
import type { RunningConsumers } from '../ingest/stream/start-consumers.ts';
import { openRuntime } from './open-runtime.ts';

export interface IngestRuntimeOptions {
  readonly registry: string;
  readonly data: string;
  /** The config, already read; without it `configFile`, else `LARDER_CONFIG`, else the defaults. */
  readonly config?: LarderConfig;
  readonly configFile?: string;
  /** `--registry-poll`, ms. */
  readonly registryPollMs?: number;
}

export interface IngestRuntime {
  readonly consumers: RunningConsumers;
  /** The consumers' metrics and the registry rollout's, as `--metrics-port` serves them (read at each scrape). */
  readonly metrics: readonly PromRegistry[];
  /** Drains the consumers (in-flight work finishes, offsets commit), then closes the store. */
  close(): Promise<void>;
}

/**
 * What `larder ingest` runs: the runtime of the config file (its store, cache levels and stream
 * overrides) with a consumer for every broker-bound topic of the registry, and no server.
 */
export async function openIngestRuntime(
  options: IngestRuntimeOptions,
  logger: Logger,
): Promise<IngestRuntime> {
  const runtime = await openRuntime({
    registryDir: options.registry,
    dataDir: options.data,
    logger,
    defaultOrigin: 'stream',
    role: 'ingest',
    ...(options.registryPollMs === undefined ? {} : { registryPollMs: options.registryPollMs }),
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(options.configFile === undefined ? {} : { configFile: options.configFile }),
  });
  try {
    const consumers = await runtime.startConsumers();
    const metrics = [
      consumers.metrics.registry,
      ...(runtime.registryMetrics === undefined ? [] : [runtime.registryMetrics]),
    ];
    return { consumers, metrics, close: () => runtime.close() };
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
