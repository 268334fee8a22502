import path from 'node:path';
import type { Command } from 'commander';
import { readConfig } from '../../runtime/read-config.ts';
import { formatPlan, planExitCode, planRegistry } from '../../runtime/registry/registry-plan.ts';
import { breakingError } from '../../runtime/registry/registry-rollout.ts';
import {
  compileRecorded,
  movedError,
  findVersion,
  openVersions,
  readPersistedQueries,
} from '../../runtime/registry/registry-commands.ts';
import { reportError } from '../report-error.ts';

interface StoreOptions {
  readonly data: string;
  readonly config?: string;
}

export function register(program: Command): void {
  const registry = program
    .command('registry')
    .description('The registry versions applied to the processes sharing a store: history and rollback.');
  registry
    .command('history')
    .description('List every applied registry version, newest first: number, hash, commit, time, command.')
    .option('--data <dir>', 'data directory of the embedded store', './data')
    .option('--config <file>', 'config file: the store the processes share (default: LARDER_CONFIG)')
    .option('--json', 'print JSON')
    .action(async (options: StoreOptions & { json?: boolean }) => {
      const opened = await openVersions(readConfig(options.config), path.resolve(options.data));
      try {
        const current = await opened.versions.current();
        const history = (await opened.versions.history()).map(({ files: _files, assets: _assets, ...v }) => ({
          ...v,
          current: v.seq === current?.seq,
        }));
        if (options.json === true) {
          process.stdout.write(`${JSON.stringify(history, null, 2)}\n`);
          return;
        }
        if (history.length === 0) {
          process.stdout.write('No registry version has been applied to this store.\n');
          return;
        }
        for (const v of history) {
          process.stdout.write(
            `${v.current ? '*' : ' '} ${String(v.seq).padStart(4)}  ${v.version.slice(0, 12)}  ` +
              `${(v.commit ?? '-').slice(0, 12).padEnd(12)}  ${new Date(v.appliedAt).toISOString()}  ${v.command}\n`,
          );
        }
      } finally {
        await opened.close();
      }
    });
  registry
    .command('rollback <version>')
    .description(
      'Re-apply an earlier version (its number, or a hash prefix), through the same plan checks as larder apply.',
    )
    .option('--data <dir>', 'data directory of the embedded store', './data')
    .option('--config <file>', 'config file: the store the processes share (default: LARDER_CONFIG)')
    .option('--allow-breaking', 'roll back even when the plan has breaking changes')
    .action(async (wanted: string, options: StoreOptions & { allowBreaking?: boolean }) => {
      const opened = await openVersions(readConfig(options.config), path.resolve(options.data));
      try {
        const target = findVersion(await opened.versions.history(), wanted);
        const current = await opened.versions.current();
        if (current?.version === target.version) {
          process.stdout.write(
            `Version ${target.version.slice(0, 12)} is already in force (${current.seq}).\n`,
          );
          return;
        }
        const before = current === undefined ? undefined : await compileRecorded(current);
        const plan = planRegistry(before, await compileRecorded(target), {
          persistedQueries: await readPersistedQueries(opened.store),
          allowBreaking: options.allowBreaking === true,
        });
        process.stdout.write(formatPlan(plan));
        if (planExitCode(plan) === 3) {
          reportError(breakingError(plan));
          process.exitCode = 3;
          return;
        }
        const published = await opened.versions.publish(
          {
            version: target.version,
            commit: target.commit,
            source: target.source,
            command: `larder registry rollback ${wanted}`,
            // The source's head stays decided on: processes do not pull it again until it changes.
            sourceVersion: current?.sourceVersion ?? null,
            files: target.files,
            ...(target.assets === undefined ? {} : { assets: target.assets }),
          },
          current?.seq ?? 0,
        );
        if (published === undefined) throw movedError();
        process.stdout.write(
          `Rolled back: version ${published.seq} is ${target.version.slice(0, 12)} (as applied in ${target.seq}).\n`,
        );
      } finally {
        await opened.close();
      }
    });
}
