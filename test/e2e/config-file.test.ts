import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamodb/dynamodb-store.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';
import { freePort } from '../support/free-port.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { waitUntil } from '../support/wait-until.ts';
import { tempDir } from '../support/temp-dir.ts';
import { serveArgs, writeRedisStreamRegistry } from './support.ts';

/**
 * `larder ingest --config` and `larder serve --config` take every part they need from the one
 * file: the store (DynamoDB, here dynalite) and the stream overrides. The registry points the
 * stream at a Redis that does not exist; only the file's `streams:` section reaches the real one.
 */
describe('ingest and serve through the real CLI, configured by one file', () => {
  const tmp = tempDir('larder-config-file-');
  const topic = `larder-test-${randomUUID()}`;
  const redis = new Redis('redis://127.0.0.1:6379');
  const registryDir = path.join(tmp.dir, 'registry');
  const configFile = path.join(tmp.dir, 'prod.yaml');
  let dynamo: DynaliteHandle;
  let table = '';
  const running: LarderProcess[] = [];

  const event = (id: string, item: number): Promise<unknown> =>
    redis.xadd(topic, '*', 'data', JSON.stringify({ id, user_id: 1, item }));

  beforeAll(async () => {
    dynamo = await startDynalite();
    table = await dynamo.createTable();
    writeRedisStreamRegistry(registryDir, topic);
    const registryFile = path.join(registryDir, 'r.yaml');
    const unreachable = readFileSync(registryFile, 'utf8').replace(
      'redis://127.0.0.1:6379',
      'redis://127.0.0.1:1',
    );
    writeFileSync(registryFile, unreachable);
    writeFileSync(
      configFile,
      [
        `store: {type: dynamodb, table: ${table}, endpoint: "${dynamo.endpoint}", region: us-east-1}`,
        'streams:',
        '  ev: {connection: {url: "redis://127.0.0.1:6379"}}',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    const keys = await redis.keys(`${topic}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await dynamo?.close();
    tmp.remove();
  });

  it('larder ingest --config writes into the DynamoDB the file names, and nothing into local LMDB', async () => {
    await event('e1', 5);
    await event('e2', 6);
    const dataDir = path.join(tmp.dir, 'ingest-data');
    const ingest = startLarder([
      'ingest',
      '--registry',
      registryDir,
      '--data',
      dataDir,
      '--config',
      configFile,
    ]);
    running.push(ingest);
    const store = new DynamoStore({ table, endpoint: dynamo.endpoint, region: 'us-east-1' });
    await store.open();
    try {
      let items: unknown[] = [];
      await waitUntil(
        async () => {
          const [rows] = await store.getRanges([{ pk: 'user:1#clicks', count: 10, lastNSec: undefined }]);
          items = (rows ?? []).map((r) => r.values.item);
          return items.length === 2;
        },
        45_000,
        `two rows in DynamoDB\n${ingest.output()}`,
      );
      expect(items).toEqual([6, 5]);
    } finally {
      await store.close();
    }
    expect(await ingest.stop()).toBe(0);

    // The data directory holds only the dead-letter table: no row was written to a local store.
    const local = new LmdbStore(dataDir);
    await local.open();
    try {
      const [rows] = await local.getRanges([{ pk: 'user:1#clicks', count: 10, lastNSec: undefined }]);
      expect(rows).toEqual([]);
    } finally {
      await local.close();
    }
  }, 90_000);

  it('larder serve --config reads that DynamoDB and consumes through the streams: override', async () => {
    await event('e3', 7);
    const port = await freePort();
    const serve = startLarder([
      ...serveArgs(registryDir, path.join(tmp.dir, 'serve-data'), port),
      '--config',
      configFile,
    ]);
    running.push(serve);
    const query = JSON.stringify({ query: '{ user(id: 1) { clicks(input: {count: 5}) { item } } }' });
    let items: number[] = [];
    await waitUntil(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: query,
        });
        const body = (await res.json()) as { data?: { user?: { clicks?: { item: number }[] } } };
        items = body.data?.user?.clicks?.map((c) => c.item) ?? [];
        return items.length === 3;
      },
      45_000,
      `three rows served\n${serve.output()}`,
    );
    // e1 and e2 were written by the ingest process; e3 by the server's own consumer.
    expect(items).toEqual([7, 6, 5]);
  }, 90_000);
});
