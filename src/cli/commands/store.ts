import path from 'node:path';
import type { Command } from 'commander';
import { readConfig } from '../../runtime/read-config.ts';
import { initDynamoTable } from '../../store/dynamodb/dynamodb-store.ts';
import { openLmdbEnv } from '../../store/lmdb/lmdb-env.ts';

export interface StoreInitOptions {
  readonly config?: string;
  readonly data: string;
}

/**
 * Prepares the configured store and says what it did: for DynamoDB, creates the table (with its
 * `by_time` index) and turns on native TTL; for LMDB, creates the data directory and file. Safe
 * to run again.
 */
export async function initStore(options: StoreInitOptions): Promise<string> {
  const config = readConfig(options.config);
  if (config.store.type === 'dynamodb') {
    const { table, endpoint, region } = config.store;
    const result = await initDynamoTable({ table, endpoint, region });
    const where = endpoint ?? `AWS ${region}`;
    const ttl =
      result.ttl === 'unsupported'
        ? 'this endpoint does not support UpdateTimeToLive; expired items are filtered on read and can be purged by scan'
        : `native TTL on attribute "exp" ${result.ttl === 'enabled' ? 'enabled' : 'already enabled'}`;
    return `DynamoDB table "${table}" at ${where}: ${result.created ? 'created' : 'already exists'}; ${ttl}`;
  }
  const dir = config.store.path ?? path.resolve(options.data);
  const env = openLmdbEnv(dir);
  await env.close();
  return `LMDB store ready at ${env.path}`;
}

export function register(program: Command): void {
  const store = program.command('store').description('Manage the online store.');
  store
    .command('init')
    .description(
      'Create the configured store: the DynamoDB table with TTL enabled, or the LMDB data directory.',
    )
    .option(
      '--config <file>',
      'config file (its store: section is the one prepared); default: LARDER_CONFIG, else embedded',
    )
    .option('--data <dir>', 'data directory for the embedded store when store.path is not set', './data')
    .action(async (options: StoreInitOptions) => {
      process.stdout.write(`${await initStore(options)}\n`);
    });
}
