import path from 'node:path';
import type { Command } from 'commander';
import { openLmdbEnv } from '../../store/lmdb/lmdb-env.ts';
import { LmdbDeadLetterStore } from '../../store/lmdb/lmdb-dead-letters.ts';
import type { DeadLetter, DeadLetterStore } from '../../store/dead-letters.ts';
import { openRuntime } from '../../runtime/open-runtime.ts';
import { replayDeadLetters } from '../../runtime/replay-dead-letters.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { parsePositiveInt } from '../options.ts';
import { createLogger } from '../logger.ts';
import { openBrokerRegistry, printBrokerEntry, printBrokerList, replayBroker } from './dlq-broker.ts';

interface DataOption {
  readonly data: string;
  readonly config?: string;
}

const CONFIG_HELP = 'config file: store and stream overrides (default: LARDER_CONFIG)';

interface BrokerOptions {
  readonly broker?: string | true;
  readonly registry?: string;
}

export function register(program: Command): void {
  const dlq = program.command('dlq').description('Inspect and replay dead-lettered events.');

  dlq
    .command('list')
    .description('List dead letters, oldest first.')
    .option('--data <dir>', 'data directory of the embedded store', './data')
    .option('--limit <n>', 'how many to show', parsePositiveInt, 50)
    .option('--after <id>', 'show entries after this id')
    .option('--json', 'print JSON lines')
    .option(
      '--broker [stream/topic]',
      "the broker's DLQ stream instead of the local table (alone: a summary)",
    )
    .option('--registry <dir>', 'registry directory (needed with --broker)')
    .option('--config <file>', CONFIG_HELP)
    .action(
      async (options: DataOption & BrokerOptions & { limit: number; after?: string; json?: boolean }) => {
        const config = readConfig(options.config);
        if (options.broker !== undefined) {
          await printBrokerList(await openBrokerRegistry(options.registry, config), options.broker, options);
          return;
        }
        await withDeadLetters(options.data, async (deadLetters) => {
          const total = await deadLetters.count();
          const entries = await deadLetters.list({ limit: options.limit, after: options.after });
          for (const entry of entries) {
            process.stdout.write(options.json ? `${JSON.stringify(entry)}\n` : `${formatLine(entry)}\n`);
          }
          if (!options.json)
            process.stdout.write(`${entries.length} shown, ${total} in the dead-letter table\n`);
        });
      },
    );

  dlq
    .command('show')
    .description('Show one dead letter in full.')
    .argument('<id>')
    .option('--data <dir>', 'data directory of the embedded store', './data')
    .option('--broker <stream/topic>', "read from the broker's DLQ stream instead of the local table")
    .option('--registry <dir>', 'registry directory (needed with --broker)')
    .option('--config <file>', CONFIG_HELP)
    .action(async (id: string, options: DataOption & { broker?: string; registry?: string }) => {
      const config = readConfig(options.config);
      if (options.broker !== undefined) {
        await printBrokerEntry(await openBrokerRegistry(options.registry, config), options.broker, id);
        return;
      }
      await withDeadLetters(options.data, async (deadLetters) => {
        const entry = await deadLetters.get(id);
        if (!entry) {
          process.stderr.write(`no dead letter with id ${id}\n`);
          process.exitCode = 1;
          return;
        }
        process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
      });
    });

  dlq
    .command('replay')
    .description(
      'Re-ingest dead letters with their original identity; ones that fail again stay dead-lettered.',
    )
    .argument('[ids...]', 'ids to replay')
    .option('--all', 'replay every dead letter')
    .requiredOption('--registry <dir>', 'registry directory')
    .option('--data <dir>', 'data directory of the embedded store', './data')
    .option('--broker <stream/topic>', "replay from the broker's DLQ stream onto its topic")
    .option('--config <file>', CONFIG_HELP)
    .action(
      async (ids: string[], options: DataOption & { all?: boolean; registry: string; broker?: string }) => {
        if (!options.all && ids.length === 0) {
          process.stderr.write('name the ids to replay, or pass --all\n');
          process.exitCode = 1;
          return;
        }
        const config = readConfig(options.config);
        if (options.broker !== undefined) {
          const registry = await openBrokerRegistry(options.registry, config);
          await replayBroker(registry, options.broker, options.all ? 'all' : ids);
          return;
        }
        // Replayed events go where the config's store is, through its cache levels.
        const runtime = await openRuntime({
          config,
          registryDir: options.registry,
          dataDir: options.data,
          logger: createLogger('warn'),
          defaultOrigin: 'dlq-replay',
          watch: false,
        });
        try {
          const { deadLetters } = runtime.ctx;
          const entries = options.all ? await listAll(deadLetters) : await getEach(deadLetters, ids);
          const { accepted, filtered, rejected } = await replayDeadLetters(
            runtime.ingestor,
            deadLetters,
            entries,
          );
          process.stdout.write(
            `replayed ${entries.length}: ${accepted} accepted, ${filtered} filtered, ${rejected} rejected again\n`,
          );
          if (rejected > 0) process.exitCode = 1;
        } finally {
          await runtime.close();
        }
      },
    );
}

function formatLine(entry: DeadLetter): string {
  const when = new Date(entry.at).toISOString();
  const feature = entry.feature ? ` ${entry.feature}` : '';
  return `${entry.id}  ${when}  ${entry.stream}/${entry.topic}  ${entry.code}${feature}  ${entry.reason}`;
}

async function listAll(deadLetters: DeadLetterStore): Promise<DeadLetter[]> {
  const all: DeadLetter[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await deadLetters.list({ limit: 1000, ...(after === undefined ? {} : { after }) });
    all.push(...page);
    if (page.length < 1000) return all;
    after = page[page.length - 1]?.id;
  }
}

async function getEach(deadLetters: DeadLetterStore, ids: readonly string[]): Promise<DeadLetter[]> {
  const entries: DeadLetter[] = [];
  for (const id of ids) {
    const entry = await deadLetters.get(id);
    if (!entry) throw new Error(`no dead letter with id ${id}`);
    entries.push(entry);
  }
  return entries;
}

async function withDeadLetters(
  dataDir: string,
  fn: (deadLetters: LmdbDeadLetterStore) => Promise<void>,
): Promise<void> {
  const env = openLmdbEnv(path.resolve(dataDir));
  try {
    await fn(new LmdbDeadLetterStore(env));
  } finally {
    await env.close();
  }
}
