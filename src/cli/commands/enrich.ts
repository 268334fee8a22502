import { createServer, type Server } from 'node:http';
import type { Command } from 'commander';
import type { Registry } from 'prom-client';
import { openEnrichRuntime } from '../../runtime/enrich-runtime.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { createLogger } from '../logger.ts';
import { parsePollInterval, parsePort, REGISTRY_HELP, REGISTRY_POLL_HELP } from '../options.ts';

interface EnrichCommandOptions {
  readonly registry: string;
  readonly data: string;
  readonly config?: string;
  readonly metricsPort?: number;
  readonly registryPoll?: number;
}

export function register(program: Command): void {
  program
    .command('enrich')
    .description(
      'Run the enrichment workers of the registry as their own fleet: take invocations from the queue ' +
        '(enrich.mode), call the handlers, publish results. Start any number (distributed mode: on any machine).',
    )
    .requiredOption('--registry <dir>', REGISTRY_HELP)
    .option('--registry-poll <interval>', REGISTRY_POLL_HELP, parsePollInterval)
    .option('--data <dir>', 'data directory: the embedded store and queue', './data')
    .option('--config <file>', 'config file: enrich, store, cache, streams (default: LARDER_CONFIG)')
    .option('--metrics-port <n>', 'serve Prometheus /metrics on this port', parsePort)
    .action(async (options: EnrichCommandOptions) => {
      const logger = createLogger();
      const config = readConfig(options.config);
      const runtime = await openEnrichRuntime(
        {
          registry: options.registry,
          data: options.data,
          config,
          ...(options.registryPoll === undefined ? {} : { registryPollMs: options.registryPoll }),
        },
        logger,
      );
      const metricsServer =
        options.metricsPort === undefined ? undefined : serveMetrics(runtime.metrics, options.metricsPort);
      logger.info(
        {
          pid: process.pid,
          mode: config.enrich.mode,
          enrichers: runtime.workers.workers().map((w) => w.name),
        },
        'enrichment workers ready',
      );
      let closing = false;
      const shutdown = async (signal: string): Promise<void> => {
        if (closing) return;
        closing = true;
        logger.info({ signal }, 'finishing the calls in flight');
        metricsServer?.close();
        await runtime.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
    });
}

function serveMetrics(registries: readonly Registry[], port: number): Server {
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
