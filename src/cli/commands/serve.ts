import type { Command } from 'commander';
import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LarderConfig } from '../../config/load-config.ts';
import { checkDeployedRegistry } from '../../runtime/deployed-registry.ts';
import { defaultWorkerCount, runClustered, WORKER_START_FAILED } from '../../serve/cluster.ts';
import { createServer } from '../../serve/server.ts';
import { ServeMetrics } from '../../serve/metrics.ts';
import {
  exitWithParent,
  respawnWithSemiSpace,
  semiSpaceFlag,
  workersWithFlag,
} from '../../serve/young-generation.ts';
import { openRuntime } from '../../runtime/open-runtime.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { serveOptionsFrom } from '../../runtime/serve-options.ts';
import { createLogger } from '../logger.ts';
import {
  parsePollInterval,
  parsePort,
  parsePositiveInt,
  REGISTRY_HELP,
  REGISTRY_POLL_HELP,
} from '../options.ts';
import { reportError } from '../report-error.ts';

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
  readonly registryPoll?: number;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve features over GraphQL and ingest pushed events (embedded mode).')
    .requiredOption('--registry <dir>', REGISTRY_HELP)
    .option('--registry-poll <interval>', REGISTRY_POLL_HELP, parsePollInterval)
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
      const workers = options.workers ?? config.serve.workers ?? defaultWorkerCount();
      // A larger young generation for the processes that serve (young-generation.ts): workers
      // get the flag when forked; a single process runs itself again with it.
      const flag = cluster.isPrimary ? semiSpaceFlag(config.serve.semiSpaceMb) : undefined;
      if (flag !== undefined && workers > 1) workersWithFlag(flag);
      else if (flag !== undefined) process.exit(await respawnWithSemiSpace(flag));
      exitWithParent();
      if (workers > 1 && cluster.isPrimary) {
        // What every worker would refuse (the registry, the config's overrides) is refused here,
        // once, before any worker starts.
        await checkDeployedRegistry(options.registry, config);
        process.exit(await runClustered({ workers, logger }, async () => undefined));
      }
      try {
        await startServing(options, config, logger);
      } catch (err) {
        if (!cluster.isWorker) throw err;
        // A worker's IPC channel would keep it alive after a failed start: say why, and leave
        // with the code that tells the primary not to start another.
        reportError(err);
        process.exit(WORKER_START_FAILED);
      }
    });
}

/** How long a stop signal waits for requests in flight and the store to close. */
const SHUTDOWN_MS = 10_000;

/**
 * Opens the runtime and listens. A failure on the way (the port in use, a store that does not
 * open) closes what was opened and throws, so the process can exit.
 */
async function startServing(options: ServeOptions, config: LarderConfig, logger: Logger): Promise<void> {
  const serveOptions = serveOptionsFrom(config);
  // One metrics registry for the whole process: requests, cache levels and consumers on `/metrics`.
  const metrics = new ServeMetrics();
  const runtime = await openRuntime({
    config,
    metrics,
    registryDir: options.registry,
    dataDir: options.data,
    logger,
    role: cluster.isWorker ? `serve worker ${cluster.worker?.id ?? '?'}` : 'serve',
    ...(options.registryPoll === undefined ? {} : { registryPollMs: options.registryPoll }),
  });
  let app: FastifyInstance | undefined;
  try {
    // Broker consumers, the batch scheduler and the enrichment workers run once per machine: in the
    // only process, or in the first cluster worker. Distributed batch mode has `larder scheduler`
    // instead, distributed enrichment `larder enrich` fleets.
    const first = cluster.isPrimary || cluster.worker?.id === 1;
    if (options.consumers && first) await runtime.startConsumers();
    if (options.scheduler && first && config.batch.mode === 'embedded') await runtime.startBatchServices();
    if (options.enrich && first && config.enrich.mode === 'embedded') await runtime.startEnrichWorkers();
    app = await createServer(runtime.ctx, { logger, metrics, admin: runtime.admin, ...serveOptions });
    await app.listen({ port: options.port, host: options.host });
  } catch (err) {
    await app?.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    throw err;
  }
  logger.info({ url: `http://${options.host}:${options.port}/graphql` }, 'larder is serving');
  const server = app;
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1); // a second signal: stop waiting
    stopping = true;
    // Bounded: a request stuck on a store that no longer answers must not keep the process alive.
    setTimeout(() => {
      logger.error({ signal }, `shutdown did not finish within ${SHUTDOWN_MS / 1000} s; exiting`);
      process.exit(1);
    }, SHUTDOWN_MS).unref();
    await server.close();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGINT', (signal) => void shutdown(signal));
  process.on('SIGTERM', (signal) => void shutdown(signal));
}
