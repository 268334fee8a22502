import path from 'node:path';
import type { Command } from 'commander';
import { loadBatchConfig } from '../../ingest/batch/batch-config.ts';
import { startBatchServices } from '../../ingest/batch/batch-services.ts';
import { formatSpecIssues, loadRegistry } from '../../registry/load.ts';
import { RegistryHolder } from '../../registry/registry-holder.ts';
import { watchRegistry } from '../../registry/watch.ts';
import { createLogger } from '../logger.ts';
import { parsePositiveInt } from '../options.ts';

interface SchedulerOptions {
  readonly registry: string;
  readonly data: string;
  readonly config?: string;
  readonly workers?: number;
}

export function register(program: Command): void {
  program
    .command('scheduler')
    .description(
      'Run the batch cron loop: scheduled ingestions and their DAGs, stuck-job alerts and timeouts. ' +
        'In embedded mode jobs run in this process; in distributed mode on `larder worker`s.',
    )
    .requiredOption('--registry <dir>', 'registry directory (YAML files), watched for changes')
    .option('--data <dir>', 'data directory of the embedded store', './data')
    .option('--config <file>', 'deployment config (its `batch:` section)')
    .option('--workers <n>', 'embedded: threads in the pool (default: CPU count)', parsePositiveInt)
    .action(async (options: SchedulerOptions) => {
      const logger = createLogger();
      const config = await loadBatchConfig(
        options.config,
        options.workers === undefined ? {} : { workers: options.workers },
      );
      const registryDir = path.resolve(options.registry);
      const registry = new RegistryHolder(await loadRegistry(registryDir));
      const services = await startBatchServices({ config, registry, dataDir: options.data, logger });
      const watcher = watchRegistry(registryDir, registry, {
        onApplied: (next) => logger.info({ version: next.version }, 'registry reloaded'),
        onRejected: (issues) =>
          logger.error(
            { issues },
            `registry change rejected; the running one stays:\n${formatSpecIssues(issues)}`,
          ),
      });
      logger.info({ mode: config.mode, next: services.scheduler.nextRuns() }, 'batch scheduler running');
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      watcher.close();
      await services.close();
    });
}
