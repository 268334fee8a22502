import path from 'node:path';
import type { StoreConfig } from '../config/store-section.ts';
import { DynamoStore } from './dynamodb/dynamodb-store.ts';
import type { LmdbEnv } from './lmdb/lmdb-env.ts';
import { LmdbStore } from './lmdb/lmdb-store.ts';
import type { OnlineStore } from './online-store.ts';

export interface StoreLocation {
  /** The `--data` directory: where LMDB lives when `store.path` is not set. */
  readonly dataDir: string;
  /** An LMDB environment already open on that directory, to share instead of opening another. */
  readonly lmdbEnv?: LmdbEnv;
  /** Durable LMDB writes (default true); false only for throwaway benchmarks. */
  readonly sync?: boolean;
}

/**
 * The store the config's `store:` section names, not opened yet: DynamoDB, or LMDB in
 * `store.path` (else the data directory). The one place `type:` picks the backend, for the
 * runtime, `larder worker` and the batch pool's threads alike.
 */
export function storeFromConfig(config: StoreConfig, where: StoreLocation): OnlineStore {
  if (config.type === 'dynamodb') {
    return new DynamoStore({ table: config.table, endpoint: config.endpoint, region: config.region });
  }
  const dir = config.path ?? path.resolve(where.dataDir);
  if (where.lmdbEnv !== undefined && path.dirname(where.lmdbEnv.path) === dir)
    return new LmdbStore(where.lmdbEnv);
  return new LmdbStore(dir, where.sync === false ? { env: { sync: false } } : {});
}
