import { createRequire } from 'node:module';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchConfigFrom } from '../../src/config/batch-section.ts';
import { openBatch, type OpenedBatch } from '../../src/ingest/batch/open-batch.ts';
import { freePort } from '../support/free-port.ts';
import { tempDir } from '../support/temp-dir.ts';
import { readUsers, registryYaml, writeFiles } from './support/fixtures.ts';
import { writeParquet } from './support/parquet-writer.ts';

interface S3rverInstance {
  run(): Promise<unknown>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

const USERS = 30;
const T0 = 1_700_000_000_000;

describe('S3 sources (s3rver in process)', () => {
  const tmp = tempDir('larder-s3-');
  const registryDir = path.join(tmp.dir, 'registry');
  const dataDir = path.join(tmp.dir, 'data');
  let server: S3rverInstance;
  let batch: OpenedBatch;
  let endpoint = '';

  beforeAll(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    server = new S3rver({ port, address: '127.0.0.1', silent: true, directory: path.join(tmp.dir, 's3') });
    await server.run();
    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { ...credentials },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
    const put = (key: string, body: string | Buffer): Promise<unknown> =>
      s3.send(new PutObjectCommand({ Bucket: 'lake', Key: key, Body: body }));
    for (let part = 0; part < 3; part++) {
      const lines = Array.from({ length: 400 }, (_, i) => {
        const n = part * 400 + i;
        return JSON.stringify({ id: `j${n}`, user_id: n % USERS, ts: T0 + n, article: n });
      });
      await put(`events/2024/part-${part}.jsonl`, lines.join('\n') + '\n');
    }
    await put('events/2024/ignore.csv', 'not,matched\n');
    const parquetFile = path.join(tmp.dir, 'regions.parquet');
    await writeParquet(parquetFile, USERS, (i) => [BigInt(i), BigInt(100 + i)], {
      columns: [
        { name: 'user_id', type: 'int64' },
        { name: 'region', type: 'int64' },
      ],
      rowGroupSize: 7,
    });
    await put('dims/regions.parquet', readFileSync(parquetFile));
    s3.destroy();

    writeFiles(registryDir, {
      'registry.yaml': registryYaml(`
  s3_views:
    source: {format: jsonl, path: "s3://lake/events/**/*.jsonl"}
    feature: user.recent_views
    entityIdField: user_id
    timestampField: ts
    eventIdField: id
    fields: [{name: article, rename: article_id, type: int}]
  s3_regions:
    source: {format: parquet, path: "s3://lake/dims/regions.parquet"}
    feature: user.region_id
    entityIdField: user_id
    fields: [{name: region, rename: region_id, type: int}]
`),
    });
    batch = await openBatch({
      config: batchConfigFrom({
        threads: 2,
        s3: { endpoint, region: 'us-east-1', forcePathStyle: true, ...credentials },
      }),
      registryDir,
      dataDir,
      taskSplit: { minSplitBytes: 1024, maxTaskBytes: 8192 },
    });
  });

  afterAll(async () => {
    await batch?.close();
    await server?.close();
    tmp.remove();
  });

  it('lists a glob under a bucket prefix and reads byte ranges of the objects with ranged GETs', async () => {
    const view = await batch.runtime.wait((await batch.runtime.submit('s3_views')).id);
    expect(view.state).toBe('succeeded');
    expect(view.plan?.files).toBe(3);
    expect(view.progress.tasksTotal).toBeGreaterThan(3);
    expect(view.progress.rowsRead).toBe(1200);
    expect(view.progress.written).toBe(1200);
    const { views } = await readUsers(dataDir, [0, 29]);
    expect(views[0]?.map((r) => r.values.article_id)).toEqual(
      Array.from({ length: 40 }, (_, k) => (39 - k) * USERS),
    );
    expect(views[1]?.[0]?.eventId).toBe(`j${39 * USERS + 29}`);
  });

  it('reads Parquet row groups from S3', async () => {
    const view = await batch.runtime.wait((await batch.runtime.submit('s3_regions')).id);
    expect(view.state).toBe('succeeded');
    expect(view.progress.rowsTotal).toBe(USERS);
    const { regions } = await readUsers(dataDir, [...Array(USERS).keys()]);
    expect(regions.map((r) => r?.value)).toEqual([...Array(USERS).keys()].map((i) => 100 + i));
  });
});
