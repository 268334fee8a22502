import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamodb/dynamodb-store.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { waitUntil } from '../support/wait-until.ts';
import { tempDir } from '../support/temp-dir.ts';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';
import { viewsIngestionFiles, writeFiles } from './support/fixtures.ts';
import { deleteRedisPrefix } from './support/redis-cleanup.ts';

const USERS = 40;
const FILES = 2;
const ROWS_PER_FILE = 400;
const T0 = 1_700_000_000_000;

/**
 * Distributed mode on many machines: `larder worker` writes to the store the config names. Here
 * that is DynamoDB (dynalite, a real DynamoDB API server on a free port), and nothing of the
 * backfill may land in the worker's local data directory.
 */
describe('distributed backfill into DynamoDB: `larder worker` with a dynamodb store config', () => {
  const tmp = tempDir('larder-dist-ddb-');
  const registryDir = path.join(tmp.dir, 'registry');
  const prefix = `larder-test-${randomBytes(4).toString('hex')}`;
  const configFile = path.join(tmp.dir, 'larder.yaml');
  let dynamo: DynaliteHandle;
  let table = '';
  let worker: LarderProcess | undefined;

  beforeAll(async () => {
    dynamo = await startDynalite();
    table = await dynamo.createTable();
    const files = viewsIngestionFiles({ files: FILES, rowsPerFile: ROWS_PER_FILE, users: USERS, t0: T0 });
    writeFiles(registryDir, files);
    writeFiles(tmp.dir, {
      'larder.yaml': [
        `store: {type: dynamodb, table: ${table}, endpoint: "${dynamo.endpoint}", region: us-east-1}`,
        `batch: {mode: distributed, prefix: ${prefix}, lockDuration: 5s}`,
        '',
      ].join('\n'),
    });
    worker = startLarder(['worker', '--data', path.join(tmp.dir, 'worker-data'), '--config', configFile], {
      LARDER_LOG_LEVEL: 'info',
    });
    await waitUntil(() => worker!.output().includes('batch worker ready'), 30_000, 'worker ready');
  });

  afterAll(async () => {
    await worker?.stop('SIGTERM');
    await deleteRedisPrefix(prefix);
    await dynamo?.close();
    tmp.remove();
  });

  it('the job succeeds and DynamoDB holds exactly the expected rows, newest first', async () => {
    const backfill = startLarder([
      'backfill',
      'views',
      '--registry',
      registryDir,
      '--data',
      path.join(tmp.dir, 'client-data'),
      '--config',
      configFile,
    ]);
    const code = await backfill.exited;
    expect(code, `${backfill.output()}\n--- worker:\n${worker?.output()}`).toBe(0);

    const store = new DynamoStore({ table, endpoint: dynamo.endpoint, region: 'us-east-1' });
    await store.open();
    try {
      const users = [...Array(USERS).keys()];
      const views = await store.getRanges(
        users.map((id) => ({ pk: `u:${id}#recent_views`, count: 10_000, lastNSec: undefined })),
      );
      const perUser = (FILES * ROWS_PER_FILE) / USERS;
      for (const user of users) {
        const expected = Array.from({ length: perUser }, (_, k) => (perUser - 1 - k) * USERS + user);
        const rows = views[user] ?? [];
        expect(rows.map((r) => r.values.article_id)).toEqual(expected);
        expect(rows.map((r) => r.ts)).toEqual(expected.map((n) => T0 + n));
        expect(rows.map((r) => r.eventId)).toEqual(expected.map((n) => `e${n}`));
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});
