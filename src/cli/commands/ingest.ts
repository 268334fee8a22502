import { createServer, type Server } from 'node:http';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { createIngestor } from '../../ingest/ingestor.ts';
import { startConsumers, type RunningConsumers } from '../../ingest/stream/start-consumers.ts';
import { readStreamOverrides, withStreamOverrides } from '../../ingest/stream/stream-overrides.ts';
import { openRuntime } from '../../runtime/open-runtime.ts';
import { createLogger } from '../logger.ts';
import { parsePort } from '../options.ts';

export interface IngestCommandOptions {
  readonly registry: string;
  readonly data: string;
  readonly config?: string;
  readonly metricsPort?: number;
}

export interface IngestRuntime {
  readonly consumers: RunningConsumers;
  /** Drains the consumers (in-flight work finishes, offsets commit), then closes the store. */
  close(): Promise<void>;
}

/**
 * Opens the embedded store and runs a consumer for every broker-bound topic of the registry.
 * Used by `larder ingest`, and by tests that run it in a child process.
 */
export async function openIngestRuntime(
  options: IngestCommandOptions,
  logger: Logger,
): Promise<IngestRuntime> {
  const overrides = options.config === undefined ? new Map() : await readStreamOverrides(options.config);
  const runtime = await openRuntime({ registryDir: options.registry, dataDir: options.data, logger });
  const { ctx } = runtime;
  try {
    const ingestor = createIngestor({
      registry: ctx.registry,
      store: ctx.store,
      deadLetters: ctx.deadLetters,
      logger,
      defaultOrigin: 'stream',
    });
    const consumers = await startConsumers({
      registry: withStreamOverrides(ctx.registry, overrides),
      ingestor,
      logger,
      dataDir: options.data,
    });
    return {
      consumers,
      async close() {
        await consumers.stop();
        await runtime.close();
      },
    };
  } catch (err) {
    await runtime.close();
    throw err;
  }
}

export function register(program: Command): void {
  program
    .command('ingest')
    .description('Consume the broker-bound streams of the registry into the store, without serving.')
    .requiredOption('--registry <dir>', 'registry directory (YAML files)')
    .option('--data <dir>', 'data directory for the embedded store', './data')
    .option('--config <file>', 'deployment overrides for streams (connection, options, group)')
    .option('--metrics-port <n>', 'serve Prometheus /metrics on this port', parsePort)
    .action(async (options: IngestCommandOptions) => {
      const logger = createLogger();
      const runtime = await openIngestRuntime(options, logger);
      const metricsServer =
        options.metricsPort === undefined ? undefined : serveMetrics(runtime, options.metricsPort);
      const started = runtime.consumers.consumers().map((c) => c.source.id);
      logger.info(
        { sources: started },
        started.length === 0 ? 'no broker-bound streams in the registry' : 'ingesting',
      );
      let closing = false;
      const shutdown = async (signal: string): Promise<void> => {
        if (closing) return;
        closing = true;
        logger.info({ signal }, 'draining stream consumers');
        metricsServer?.close();
        await runtime.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
    });
}

function serveMetrics(runtime: IngestRuntime, port: number): Server {
  const registry = runtime.consumers.metrics.registry;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text))
      .catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  server.listen(port, '127.0.0.1');
  return server;
}
