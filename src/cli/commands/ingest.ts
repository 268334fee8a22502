import { createServer, type Server } from 'node:http';
import type { Command } from 'commander';
import { openIngestRuntime, type IngestRuntime } from '../../runtime/ingest-runtime.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { createLogger } from '../logger.ts';
import { parsePollInterval, parsePort, REGISTRY_HELP, REGISTRY_POLL_HELP } from '../options.ts';

interface IngestCommandOptions {
  readonly registry: string;
  readonly data: string;
  readonly config?: string;
  readonly metricsPort?: number;
  readonly registryPoll?: number;
}

export function register(program: Command): void {
  program
    .command('ingest')
    .description('Consume the broker-bound streams of the registry into the store, without serving.')
    .requiredOption('--registry <dir>', REGISTRY_HELP)
    .option('--registry-poll <interval>', REGISTRY_POLL_HELP, parsePollInterval)
    .option('--data <dir>', 'data directory for the embedded store', './data')
    .option('--config <file>', 'config file: store, cache levels, stream overrides (default: LARDER_CONFIG)')
    .option('--metrics-port <n>', 'serve Prometheus /metrics on this port', parsePort)
    .action(async (options: IngestCommandOptions) => {
      const logger = createLogger();
      const config = readConfig(options.config);
      const runtime = await openIngestRuntime(
        {
          registry: options.registry,
          data: options.data,
          config,
          ...(options.registryPoll === undefined ? {} : { registryPollMs: options.registryPoll }),
        },
        logger,
      );
      const metricsServer =
        options.metricsPort === undefined ? undefined : serveMetrics(runtime, options.metricsPort);
      const started = runtime.consumers.consumers().map((c) => c.source.id);
      logger.info(
        { sources: started, store: config.store.type },
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
  const registries = runtime.metrics;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    Promise.all(registries.map((r) => r.metrics()))
      .then((texts) =>
        res
          .writeHead(200, { 'content-type': registries[0]?.contentType ?? 'text/plain' })
          .end(texts.join('\n')),
      )
      .catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  server.listen(port, '127.0.0.1');
  return server;
}
