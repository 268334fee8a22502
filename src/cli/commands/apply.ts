import path from 'node:path';
import type { Command } from 'commander';
import { readConfig } from '../../runtime/read-config.ts';
import { formatPlan, planExitCode } from '../../runtime/registry/registry-plan.ts';
import { breakingError } from '../../runtime/registry/registry-rollout.ts';
import {
  openVersions,
  planOver,
  readPersistedQueries,
  readProposed,
  movedError,
} from '../../runtime/registry/registry-commands.ts';
import { reportError } from '../report-error.ts';
import { REGISTRY_HELP } from '../options.ts';

interface ApplyOptions {
  readonly registry: string;
  readonly data: string;
  readonly config?: string;
  readonly allowBreaking?: boolean;
}

export function register(program: Command): void {
  program
    .command('apply')
    .description(
      'Apply the registry to every process sharing the store: planned as by `larder plan`, refused when ' +
        'breaking unless allowed (exit 3), else recorded as the new applied version, which the processes follow.',
    )
    .requiredOption('--registry <dir>', REGISTRY_HELP)
    .option('--data <dir>', 'data directory of the embedded store', './data')
    .option('--config <file>', 'config file: the store the processes share (default: LARDER_CONFIG)')
    .option('--allow-breaking', 'apply even when the plan has breaking changes')
    .action(async (options: ApplyOptions) => {
      const config = readConfig(options.config);
      const proposed = await readProposed(options.registry, config);
      const opened = await openVersions(config, path.resolve(options.data));
      try {
        const applied = await opened.versions.current();
        const plan = await planOver(
          applied,
          proposed.registry,
          await readPersistedQueries(opened.store),
          options.allowBreaking === true,
        );
        process.stdout.write(formatPlan(plan));
        const code = planExitCode(plan);
        if (code === 3) {
          reportError(breakingError(plan));
          process.exitCode = 3;
          return;
        }
        if (applied?.version === proposed.registry.version) {
          process.stdout.write(`Nothing to apply: version ${applied.seq} is in force.\n`);
          return;
        }
        const published = await opened.versions.publish(
          {
            version: proposed.registry.version,
            commit: proposed.commit,
            source: proposed.source,
            command: `larder apply${options.allowBreaking === true ? ' --allow-breaking' : ''}`,
            sourceVersion: proposed.registry.version,
            files: proposed.files,
            assets: proposed.assets,
          },
          applied?.seq ?? 0,
        );
        if (published === undefined) throw movedError();
        process.stdout.write(
          `Applied version ${published.seq} (${published.version.slice(0, 12)}${published.commit === null ? '' : `, commit ${published.commit.slice(0, 12)}`}).\n`,
        );
      } finally {
        await opened.close();
        await proposed.close();
      }
    });
}
