import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamodb/dynamodb-store.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import { startLarder } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';
import { viewsIngestionFiles, writeFiles } from './support/fixtures.ts';

const USERS = 10;
const FILES = 2;
const ROWS_PER_FILE = 50;
const T0 = 1_700_000_000_000;

/**
 * Embedded mode writes to the store the config names too: the pool's threads open DynamoDB
 * (dynalite) from the file's `store:` section, and the local data directory gets only the jobs.
 */
describe('embedded backfill into DynamoDB: `larder backfill --config` with a dynamodb store', () => {
  const tmp = tempDir('larder-embedded-ddb-');
  const registryDir = path.join(tmp.dir, 'registry');
  const dataDir = path.join(tmp.dir, 'data');
  const configFile = path.join(tmp.dir, 'larder.yaml');
  let dynamo: DynaliteHandle;
  let table = '';

  beforeAll(async () => {
    dynamo = await startDynalite();
    table = await dynamo.createTable();
    writeFiles(
      registryDir,
      viewsIngestionFiles({ files: FILES, rowsPerFile: ROWS_PER_FILE, users: USERS, t0: T0 }),
    );
    writeFiles(tmp.dir, {
      'larder.yaml': `store: {type: dynamodb, table: ${table}, endpoint: "${dynamo.endpoint}"}\nbatch: {threads: 2}\n`,
    });
  });

  afterAll(async () => {
    await dynamo?.close();
    tmp.remove();
  });

  it('the job succeeds, DynamoDB holds the rows and local LMDB holds none', async () => {
    const backfill = startLarder([
      'backfill',
      'views',
      '--registry',
      registryDir,
      '--data',
      dataDir,
      '--config',
      configFile,
    ]);
    expect(await backfill.exited, backfill.output()).toBe(0);

    const pks = [...Array(USERS).keys()].map((id) => ({
      pk: `u:${id}#recent_views`,
      count: 1000,
      lastNSec: undefined,
    }));
    const perUser = (FILES * ROWS_PER_FILE) / USERS;
    const dynamoStore = new DynamoStore({ table, endpoint: dynamo.endpoint, region: 'us-east-1' });
    await dynamoStore.open();
    try {
      const views = await dynamoStore.getRanges(pks);
      expect(views.map((rows) => rows.length)).toEqual(pks.map(() => perUser));
      expect(views[3]?.[0]?.values.article_id).toBe((perUser - 1) * USERS + 3);
    } finally {
      await dynamoStore.close();
    }
    const local = new LmdbStore(dataDir);
    await local.open();
    try {
      expect((await local.getRanges(pks)).flat()).toEqual([]);
    } finally {
      await local.close();
    }
  }, 60_000);
});
