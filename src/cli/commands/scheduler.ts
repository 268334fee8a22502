import type { Command } from 'commander';
import { startBatchServices } from '../../ingest/batch/batch-services.ts';
import { openDeployedRegistry } from '../../runtime/deployed-registry.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { withThreadOptions, withThreads, type ThreadOptions } from '../batch-options.ts';
import { createLogger } from '../logger.ts';
import { REGISTRY_HELP } from '../options.ts';

interface SchedulerOptions extends ThreadOptions {
  readonly registry: string;
  readonly data: string;
  readonly config?: string;
}

export function register(program: Command): void {
  const command = program
    .command('scheduler')
    .description(
      'Run the batch cron loop: scheduled ingestions and their DAGs, stuck-job alerts and timeouts. ' +
        'In embedded mode jobs run in this process; in distributed mode on `larder worker`s.',
    )
    .requiredOption('--registry <dir>', `${REGISTRY_HELP}, watched for changes`)
    .option('--data <dir>', 'data directory of the embedded store', './data')
    .option('--config <file>', 'config file: its batch: section (default: LARDER_CONFIG)');
  withThreadOptions(command).action(async (options: SchedulerOptions) => {
    const logger = createLogger();
    const file = readConfig(options.config);
    const config = withThreads(file.batch, options);
    const deployed = await openDeployedRegistry({ registryDir: options.registry, config: file, logger });
    const services = await startBatchServices({
      config,
      registry: deployed.registry,
      dataDir: options.data,
      store: file.store,
      logger,
    });
    logger.info({ mode: config.mode, next: services.scheduler.nextRuns() }, 'batch scheduler running');
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await deployed.close();
    await services.close();
  });
}
