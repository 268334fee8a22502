import type { Command } from 'commander';
import cluster from 'node:cluster';
import { defaultWorkerCount, runClustered } from '../../serve/cluster.ts';
import { createServer } from '../../serve/server.ts';
import { openEmbeddedRuntime } from '../embedded-runtime.ts';
import { createLogger } from '../logger.ts';
import { parsePort, parsePositiveInt } from '../options.ts';

export interface ServeOptions {
  readonly registry: string;
  readonly data: string;
  readonly port: number;
  readonly host: string;
  readonly workers?: number;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve features over GraphQL and ingest pushed events (embedded mode).')
    .requiredOption('--registry <dir>', 'registry directory (YAML files)')
    .option('--data <dir>', 'data directory for the embedded store', './data')
    .option('--port <n>', 'port to listen on', parsePort, 4000)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--workers <n>', 'server processes sharing the port (default: number of cores)', parsePositiveInt)
    .action(async (options: ServeOptions) => {
      const logger = createLogger();
      const workers = options.workers ?? defaultWorkerCount();
      if (workers > 1 && cluster.isPrimary) {
        process.exit(await runClustered({ workers, logger }, async () => undefined));
      }
      const runtime = await openEmbeddedRuntime({
        registryDir: options.registry,
        dataDir: options.data,
        logger,
      });
      const app = await createServer(runtime.ctx, { logger });
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
