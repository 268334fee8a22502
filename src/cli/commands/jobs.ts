import type { Command } from 'commander';
import { viewJob, type JobStore } from '../../ingest/batch/jobs/job-store.ts';
import { cancelJob } from '../../ingest/batch/jobs/cancel-job.ts';
import { JobTracker } from '../../ingest/batch/jobs/job-tracker.ts';
import { JOB_STATES, isTerminal, type JobState, type JobView } from '../../ingest/batch/jobs/job-types.ts';
import { openBatch } from '../../ingest/batch/open-batch.ts';
import { openJobStore } from '../../ingest/batch/open-job-store.ts';
import { formatJobDetails, formatJobLine } from '../../ingest/batch/report/job-format.ts';
import { ProgressPrinter } from '../../ingest/batch/report/progress-printer.ts';
import { LarderError } from '../../errors.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { createLogger } from '../logger.ts';
import { parsePositiveInt } from '../options.ts';

interface StoreOptions {
  readonly data: string;
  readonly config?: string;
}

function withStoreOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'data directory of the embedded store (embedded job store)', './data')
    .option(
      '--config <file>',
      'config file: its batch: section (distributed mode reads jobs from Redis); default: LARDER_CONFIG',
    );
}

export function register(program: Command): void {
  const jobs = program.command('jobs').description('List, inspect, retry and cancel batch jobs.');

  withStoreOptions(
    jobs
      .command('list')
      .description('Jobs, newest first.')
      .option('--state <state>', `only jobs in this state (${JOB_STATES.join(', ')})`)
      .option('--ingestion <name>', 'only jobs of this ingestion')
      .option('--limit <n>', 'how many', parsePositiveInt, 20)
      .option('--json', 'print JSON lines'),
  ).action(
    async (options: StoreOptions & { state?: string; ingestion?: string; limit: number; json?: boolean }) => {
      if (options.state !== undefined && !JOB_STATES.includes(options.state as JobState)) {
        throw new LarderError('LARDER_ERR_BAD_ARGUMENT', `--state must be one of ${JOB_STATES.join(', ')}`);
      }
      const config = readConfig(options.config).batch;
      const store = await openJobStore(config, options.data);
      try {
        const list = await store.listJobs({
          limit: options.limit,
          ...(options.state === undefined ? {} : { states: [options.state as JobState] }),
          ...(options.ingestion === undefined ? {} : { ingestion: options.ingestion }),
        });
        const tracker = new JobTracker(store);
        for (const job of list) {
          const view = await currentView(store, tracker, job.id);
          if (view === undefined) continue;
          process.stdout.write(options.json ? `${JSON.stringify(view)}\n` : `${formatJobLine(view)}\n`);
        }
        if (!options.json) process.stdout.write(`${list.length} job(s)\n`);
      } finally {
        await store.close();
      }
    },
  );

  withStoreOptions(
    jobs
      .command('show')
      .description(
        'One job in full: state, progress, plan, bad-row sample and log. An unfinished job is followed ' +
          'with a live progress bar until it ends (on a terminal; --follow anywhere, --no-follow never).',
      )
      .argument('<id>')
      .option('--logs <n>', 'log lines to show', parsePositiveInt, 50)
      .option('--follow', 'follow an unfinished job until it ends (default: when stderr is a terminal)')
      .option('--no-follow', 'print the job as it is now and return')
      .option('--json', 'print JSON'),
  ).action(async (id: string, options: StoreOptions & { logs: number; json?: boolean; follow?: boolean }) => {
    const config = readConfig(options.config).batch;
    const store = await openJobStore(config, options.data);
    try {
      let view = await currentView(store, new JobTracker(store), id);
      if (view === undefined) throw new LarderError('LARDER_ERR_BATCH_JOB_NOT_FOUND', `no job with id ${id}`);
      const follow = options.follow ?? (process.stderr.isTTY === true && options.json !== true);
      if (follow && !isTerminal(view.state)) view = await followJob(store, view);
      const logs = await store.logs(id, options.logs);
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ ...view, logs })}\n`
          : `${formatJobDetails(view, config.consoleUrl, logs)}\n`,
      );
    } finally {
      await store.close();
    }
  });

  withStoreOptions(
    jobs
      .command('cancel')
      .description('Cancel an unfinished job; its running tasks stop at their next batch.')
      .argument('<id>'),
  ).action(async (id: string, options: StoreOptions) => {
    const config = readConfig(options.config).batch;
    const store = await openJobStore(config, options.data);
    try {
      await cancelJob(new JobTracker(store), id, 'cancelled with larder jobs cancel');
      process.stdout.write(`job ${id} cancelled\n`);
    } finally {
      await store.close();
    }
  });

  withStoreOptions(
    jobs
      .command('retry')
      .description(
        'Run a failed or cancelled job again (same id and URL); waits, exit code says if it succeeded.',
      )
      .argument('<id>')
      .requiredOption('--registry <dir>', 'registry directory (the mapping is taken from it again)')
      .option('--no-wait', 'distributed mode: requeue and return'),
  ).action(async (id: string, options: StoreOptions & { registry: string; wait: boolean }) => {
    const file = readConfig(options.config);
    const config = file.batch;
    const logger = createLogger(process.env.LARDER_LOG_LEVEL ?? 'warn');
    const batch = await openBatch({
      config,
      registryDir: options.registry,
      dataDir: options.data,
      store: file.store,
      logger,
    });
    const printer = new ProgressPrinter();
    try {
      const job = await batch.runtime.retry(id);
      process.stderr.write(
        `job ${job.id} ${job.state} (attempt ${job.attempt}): ${config.consoleUrl}${job.url}\n`,
      );
      if (!options.wait && config.mode === 'distributed') return;
      const view = await batch.runtime.wait(job.id, { onUpdate: (v) => printer.update(v) });
      printer.stop();
      process.stdout.write(`${formatJobDetails(view, config.consoleUrl)}\n`);
      if (view.state !== 'succeeded') process.exitCode = 1;
    } finally {
      printer.stop();
      await batch.close();
    }
  });
}

/** A job as it stands: a running job whose process is gone is failed first, so it reads as failed. */
async function currentView(store: JobStore, tracker: JobTracker, id: string): Promise<JobView | undefined> {
  const view = await viewJob(store, id);
  if (view === undefined || !(await tracker.failIfOrphaned(view))) return view;
  return viewJob(store, id);
}

/**
 * Shows the job's progress live (a cli-progress bar on a terminal, a line every few seconds
 * elsewhere) until it finishes or Ctrl-C stops following it; the job itself runs on regardless.
 */
async function followJob(store: JobStore, first: JobView): Promise<JobView> {
  const printer = new ProgressPrinter();
  let stop = false;
  const onSignal = (): void => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  let view = first;
  try {
    while (!stop && !isTerminal(view.state)) {
      printer.update(view);
      await new Promise((resolve) => setTimeout(resolve, 500));
      view = (await viewJob(store, first.id)) ?? view;
    }
    printer.update(view);
    return view;
  } finally {
    printer.stop();
    process.off('SIGINT', onSignal);
  }
}
