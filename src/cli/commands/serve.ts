import type { Command } from 'commander';
import cluster from 'node:cluster';
import { defaultWorkerCount, runClustered } from '../../serve/cluster.ts';
import { createServer } from '../../serve/server.ts';
import { ServeMetrics } from '../../serve/metrics.ts';
import { startConsumers } from '../../ingest/stream/start-consumers.ts';
import { loadBatchConfig } from '../../ingest/batch/batch-config.ts';
import { startBatchServices } from '../../ingest/batch/batch-services.ts';
import { openRuntime } from '../../runtime/open-runtime.ts';
import { createLogger } from '../logger.ts';
import { parsePort, parsePositiveInt } from '../options.ts';

export interface ServeOptions {
  readonly registry: string;
  readonly data: string;
  readonly port: number;
  readonly host: string;
  readonly workers?: number;
  readonly config?: string;
  /** commander's negation of --no-consumers. */
  readonly consumers: boolean;
  /** commander's negation of --no-scheduler. */
  readonly scheduler: boolean;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve features over GraphQL and ingest pushed events (embedded mode).')
    .requiredOption('--registry <dir>', 'registry directory (YAML files)')
    .option('--data <dir>', 'data directory for the embedded store', './data')
    .option('--port <n>', 'port to listen on', parsePort, 4000)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--config <file>', 'runtime config: store, cache levels (default: embedded LMDB + local cache)')
    .option('--no-consumers', 'do not run the broker consumers of broker-bound streams in this process')
    .option('--no-scheduler', 'embedded mode: do not run the batch cron scheduler in this process')
    .option('--workers <n>', 'server processes sharing the port (default: number of cores)', parsePositiveInt)
    .action(async (options: ServeOptions) => {
      const logger = createLogger();
      const workers = options.workers ?? defaultWorkerCount();
      if (workers > 1 && cluster.isPrimary) {
        process.exit(await runClustered({ workers, logger }, async () => undefined));
      }
      // One metrics registry for the whole process: requests, cache levels and consumers on `/metrics`.
      const metrics = new ServeMetrics();
      const runtime = await openRuntime({
        metrics,
        registryDir: options.registry,
        dataDir: options.data,
        logger,
        ...(options.config === undefined ? {} : { configFile: options.config }),
      });
      // Broker consumers run once per machine: in the only process, or in the first cluster worker.
      const runConsumers = options.consumers && (cluster.isPrimary || cluster.worker?.id === 1);
      const consumers = runConsumers
        ? await startConsumers({
            registry: runtime.ctx.registry,
            ingestor: runtime.ingestor,
            logger,
            dataDir: options.data,
          })
        : undefined;
      if (consumers !== undefined) metrics.include(consumers.metrics.registry);
      // Embedded batch mode runs the cron scheduler in the server; distributed mode has `larder scheduler`.
      const batchConfig = await loadBatchConfig(options.config);
      const batch =
        options.scheduler &&
        batchConfig.mode === 'embedded' &&
        (cluster.isPrimary || cluster.worker?.id === 1)
          ? await startBatchServices({
              config: batchConfig,
              registry: runtime.ctx.registry,
              dataDir: options.data,
              env: runtime.lmdbEnv,
              logger,
            })
          : undefined;
      const app = await createServer(runtime.ctx, { logger, metrics });
      await app.listen({ port: options.port, host: options.host });
      logger.info({ url: `http://${options.host}:${options.port}/graphql` }, 'larder is serving');
      const shutdown = async () => {
        await app.close();
        await consumers?.stop();
        await batch?.close();
        await runtime.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown());
      process.once('SIGTERM', () => void shutdown());
    });
}
