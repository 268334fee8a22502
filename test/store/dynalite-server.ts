import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { initDynamoTable } from '../../src/store/dynamodb/dynamodb-store.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: {
  createTableMs?: number;
  deleteTableMs?: number;
}) => Server;

/** A dynalite server (in memory) on a free port, with a helper to make fresh Larder tables. */
export interface DynaliteHandle {
  readonly endpoint: string;
  /** Creates a table with a random name through `initDynamoTable` and returns its name. */
  createTable(): Promise<string>;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<DynaliteHandle> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    async createTable() {
      const table = `larder_${randomUUID().slice(0, 8)}`;
      await initDynamoTable({ table, endpoint, region: 'us-east-1' });
      return table;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
