import { InvalidArgumentError, type Command } from 'commander';
import { LarderError } from '../../errors.ts';
import { openBatch } from '../../ingest/batch/open-batch.ts';
import { formatJobDetails } from '../../ingest/batch/report/job-format.ts';
import { ProgressPrinter } from '../../ingest/batch/report/progress-printer.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { withThreadOptions, withThreads, type ThreadOptions } from '../batch-options.ts';
import { createLogger } from '../logger.ts';

interface BackfillOptions extends ThreadOptions {
  readonly registry: string;
  readonly data: string;
  readonly config?: string;
  readonly from?: number;
  readonly to?: number;
  readonly wait: boolean;
  readonly json?: boolean;
}

/** `--from` / `--to`: epoch milliseconds, or an ISO-8601 date or date-time (UTC unless it says). */
export function parseTime(value: string): number {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(iso) ? iso : `${iso}Z`);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`"${value}" is not epoch ms or an ISO-8601 time.`);
  return ms;
}

export function register(program: Command): void {
  const command = program
    .command('backfill')
    .description(
      'Run a batch ingestion now over its source files; waits, and exits 0 only if the job succeeded.',
    )
    .argument('<ingestion>', 'name of an ingestion under `ingestions:` in the registry')
    .requiredOption('--registry <dir>', 'registry directory (YAML files)')
    .option('--data <dir>', 'data directory of the embedded store', './data')
    .option('--config <file>', 'config file: its batch: section (mode, redis, threads, webhook, s3)')
    .option('--from <time>', 'only rows at or after this time (epoch ms or ISO-8601)', parseTime)
    .option('--to <time>', 'only rows before this time (epoch ms or ISO-8601)', parseTime)
    .option('--no-wait', 'submit the job and print its id without waiting')
    .option('--json', 'print the finished job as JSON on stdout');
  withThreadOptions(command).action(async (ingestion: string, options: BackfillOptions) => {
    const logger = createLogger(process.env.LARDER_LOG_LEVEL ?? 'warn');
    const file = readConfig(options.config);
    const config = withThreads(file.batch, options);
    if (!options.wait && config.mode === 'embedded') {
      throw new LarderError(
        'LARDER_ERR_BAD_ARGUMENT',
        '--no-wait needs the distributed mode: in embedded mode the job runs inside this process',
      );
    }
    const batch = await openBatch({
      config,
      registryDir: options.registry,
      dataDir: options.data,
      store: file.store,
      logger,
    });
    const printer = new ProgressPrinter();
    let interrupted = false;
    const onSignal = (): void => {
      interrupted = true;
    };
    process.once('SIGINT', onSignal);
    try {
      const job = await batch.runtime.submit(ingestion, {
        ...(options.from === undefined ? {} : { from: options.from }),
        ...(options.to === undefined ? {} : { to: options.to }),
      });
      process.stderr.write(`job ${job.id} ${job.state}: ${config.consoleUrl}${job.url}\n`);
      if (!options.wait) {
        process.stdout.write(`${job.id}\n`);
        return;
      }
      const view = await batch.runtime.wait(job.id, {
        onUpdate: (v) => {
          printer.update(v);
          if (interrupted) {
            interrupted = false;
            void batch.runtime.cancel(job.id).catch(() => undefined);
          }
        },
      });
      printer.stop();
      if (options.json) process.stdout.write(`${JSON.stringify(view)}\n`);
      else process.stdout.write(`${formatJobDetails(view, config.consoleUrl)}\n`);
      if (view.state !== 'succeeded') process.exitCode = 1;
    } finally {
      process.off('SIGINT', onSignal);
      printer.stop();
      await batch.close();
    }
  });
}
