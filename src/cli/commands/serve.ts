import type { Command } from 'commander';
import cluster from 'node:cluster';
import { defaultWorkerCount, runClustered } from '../../serve/cluster.ts';
import { createServer } from '../../serve/server.ts';
import { ServeMetrics } from '../../serve/metrics.ts';
import { openRuntime } from '../../runtime/open-runtime.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { serveOptionsFrom } from '../../runtime/serve-options.ts';
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
  /** commander's negation of --no-enrich. */
  readonly enrich: boolean;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve features over GraphQL and ingest pushed events (embedded mode).')
    .requiredOption('--registry <dir>', 'registry directory (YAML files)')
    .option('--data <dir>', 'data directory for the embedded store', './data')
    .option('--port <n>', 'port to listen on', parsePort, 4000)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option(
      '--config <file>',
      'config file: store, cache, streams, serve, batch, enrich (default: LARDER_CONFIG, else embedded LMDB + local cache)',
    )
    .option('--no-consumers', 'do not run the broker consumers of broker-bound streams in this process')
    .option('--no-scheduler', 'embedded mode: do not run the batch cron scheduler in this process')
    .option('--no-enrich', 'embedded mode: do not run the enrichment workers in this process')
    .option(
      '--workers <n>',
      'server processes sharing the port (default: serve.workers, else the number of cores)',
      parsePositiveInt,
    )
    .action(async (options: ServeOptions) => {
      const logger = createLogger();
      // Read and checked before anything starts, in the primary too: a bad file stops here once.
      const config = readConfig(options.config);
      const serveOptions = serveOptionsFrom(config);
      const workers = options.workers ?? config.serve.workers ?? defaultWorkerCount();
      if (workers > 1 && cluster.isPrimary) {
        process.exit(await runClustered({ workers, logger }, async () => undefined));
      }
      // One metrics registry for the whole process: requests, cache levels and consumers on `/metrics`.
      const metrics = new ServeMetrics();
      const runtime = await openRuntime({
        config,
        metrics,
        registryDir: options.registry,
        dataDir: options.data,
        logger,
      });
      // Broker consumers, the batch scheduler and the enrichment workers run once per machine: in the only process, or in
      // the first cluster worker. Distributed batch mode has `larder scheduler` instead.
      const first = cluster.isPrimary || cluster.worker?.id === 1;
      if (options.consumers && first) await runtime.startConsumers();
      if (options.scheduler && first && config.batch.mode === 'embedded') await runtime.startBatchServices();
      // Distributed enrichment has `larder enrich` fleets instead.
      if (options.enrich && first && config.enrich.mode === 'embedded') await runtime.startEnrichWorkers();
      const app = await createServer(runtime.ctx, { logger, metrics, admin: runtime.admin, ...serveOptions });
      await app.listen({ port: options.port, host: options.host });
      logger.info({ url: `http://${options.host}:${options.port}/graphql` }, 'larder is serving');
      const shutdown = async () => {
        await app.close();
        await runtime.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown());
      process.once('SIGTERM', () => void shutdown());
    });
}
