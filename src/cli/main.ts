import { Command } from 'commander';
import { reportError } from './report-error.ts';

/**
 * Every command, loaded on demand: `larder <command>` imports only that command's module (the
 * serving and ingestion stacks are large, and `larder validate` should start fast). Help and
 * unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<{ register(program: Command): void }>> = {
  validate: () => import('./commands/validate.ts'),
  serve: () => import('./commands/serve.ts'),
  demo: () => import('./commands/demo.ts'),
  dlq: () => import('./commands/dlq.ts'),
  backfill: () => import('./commands/backfill.ts'),
  jobs: () => import('./commands/jobs.ts'),
  scheduler: () => import('./commands/scheduler.ts'),
  worker: () => import('./commands/worker.ts'),
  ingest: () => import('./commands/ingest.ts'),
  enrich: () => import('./commands/enrich.ts'),
  store: () => import('./commands/store.ts'),
  config: () => import('./commands/config.ts'),
  plan: () => import('./commands/plan.ts'),
  apply: () => import('./commands/apply.ts'),
  registry: () => import('./commands/registry.ts'),
};

const program = new Command('larder')
  .description('Real-time feature platform: stream and batch ingestion, online store, GraphQL serving.')
  .version('0.1.0')
  .showHelpAfterError();

const requested = process.argv[2];
const names = requested !== undefined && requested in COMMANDS ? [requested] : Object.keys(COMMANDS);
for (const name of names) (await COMMANDS[name]!()).register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  reportError(err);
  process.exitCode = 1;
}
