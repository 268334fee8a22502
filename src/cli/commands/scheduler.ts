import path from 'node:path';
import type { Command } from 'commander';
import { startBatchServices } from '../../ingest/batch/batch-services.ts';
import { openDeployedRegistry } from '../../runtime/deployed-registry.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { withThreadOptions, withThreads, type ThreadOptions } from '../batch-options.ts';
import { createLogger } from '../logger.ts';
import { parsePollInterval, REGISTRY_HELP, REGISTRY_POLL_HELP } from '../options.ts';
import { openVersions, readPersistedQueries } from '../../runtime/registry/registry-commands.ts';
import { openLmdbEnv } from '../../store/lmdb/lmdb-env.ts';

interface SchedulerOptions extends ThreadOptions {
  readonly registry: string;
  readonly data: string;
  readonly config?: string;
  readonly registryPoll?: number;
}

export function register(program: Command): void {
  const command = program
    .command('scheduler')
    .description(
      'Run the batch cron loop: scheduled ingestions and their DAGs, stuck-job alerts and timeouts. ' +
        'In embedded mode jobs run in this process; in distributed mode on `larder worker`s.',
    )
    .requiredOption('--registry <dir>', `${REGISTRY_HELP}, watched for changes`)
    .option('--registry-poll <interval>', REGISTRY_POLL_HELP, parsePollInterval)
    .option('--data <dir>', 'data directory of the embedded store', './data')
    .option('--config <file>', 'config file: its batch: section (default: LARDER_CONFIG)');
  withThreadOptions(command).action(async (options: SchedulerOptions) => {
    const logger = createLogger();
    const file = readConfig(options.config);
    const config = withThreads(file.batch, options);
    // It starts the jobs, so it runs the registry version applied to the store, as the servers do.
    const env = file.store.type === 'lmdb' ? openLmdbEnv(path.resolve(options.data)) : undefined;
    const versions = await openVersions(file, path.resolve(options.data), env);
    const deployed = await openDeployedRegistry({
      registryDir: options.registry,
      config: file,
      logger,
      versions: versions.versions,
      persistedQueries: () => readPersistedQueries(versions.store),
      role: 'scheduler',
      ...(options.registryPoll === undefined ? {} : { pollMs: options.registryPoll }),
    });
    const services = await startBatchServices({
      config,
      registry: deployed.registry,
      dataDir: options.data,
      store: file.store,
      ...(env === undefined ? {} : { env }),
      logger,
    });
    logger.info({ mode: config.mode, next: services.scheduler.nextRuns() }, 'batch scheduler running');
    await new Promise<void>((resolve) => {
      // Signal handlers do not keep a process alive, and with no cron due nothing else may.
      const alive = setInterval(() => undefined, 2 ** 30);
      const stop = (): void => {
        clearInterval(alive);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await services.close();
    await deployed.close();
    await versions.close();
    await env?.close();
  });
}
