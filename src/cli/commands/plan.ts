import path from 'node:path';
import type { Command } from 'commander';
import { readConfig } from '../../runtime/read-config.ts';
import { formatPlan, planExitCode, type RegistryPlan } from '../../runtime/registry/registry-plan.ts';
import {
  fetchServerApplied,
  openVersions,
  planOver,
  readPersistedQueries,
  readProposed,
} from '../../runtime/registry/registry-commands.ts';
import { REGISTRY_HELP } from '../options.ts';

interface PlanOptions {
  readonly registry: string;
  readonly data: string;
  readonly config?: string;
  readonly against?: string;
  readonly apiKey?: string;
  readonly json?: boolean;
}

export function register(program: Command): void {
  program
    .command('plan')
    .description(
      'Show what applying the registry would change: declarations key by key, the GraphQL schema diff and ' +
        'breaking changes. Exit 0: no change, 2: changes, 3: breaking changes.',
    )
    .requiredOption('--registry <dir>', REGISTRY_HELP)
    .option('--data <dir>', 'data directory of the embedded store holding the applied version', './data')
    .option('--config <file>', 'config file: the store holding the applied version (default: LARDER_CONFIG)')
    .option('--against <url>', 'plan against what a running server applied (GET /v1/admin/registry/applied)')
    .option('--api-key <key>', 'a read key for --against (default: LARDER_API_KEY)')
    .option('--json', 'print the plan as JSON')
    .action(async (options: PlanOptions) => {
      const plan = await planCommand(options);
      process.stdout.write(
        options.json === true ? `${JSON.stringify(planJson(plan), null, 2)}\n` : formatPlan(plan),
      );
      process.exitCode = planExitCode(plan);
    });
}

async function planCommand(options: PlanOptions): Promise<RegistryPlan> {
  const config = readConfig(options.config);
  const proposed = await readProposed(options.registry, config);
  try {
    if (options.against !== undefined) {
      const server = await fetchServerApplied(options.against, options.apiKey ?? process.env.LARDER_API_KEY);
      return await planOver(server.applied, proposed.registry, server.persistedQueries);
    }
    const opened = await openVersions(config, path.resolve(options.data));
    try {
      const applied = await opened.versions.current();
      return await planOver(applied, proposed.registry, await readPersistedQueries(opened.store));
    } finally {
      await opened.close();
    }
  } finally {
    await proposed.close();
  }
}

/** `--json`: the plan, and the exit code it gives. */
export function planJson(plan: RegistryPlan): Record<string, unknown> {
  return { exitCode: planExitCode(plan), ...plan };
}
