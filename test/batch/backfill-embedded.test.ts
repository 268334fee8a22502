import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchConfigFrom } from '../../src/config/batch-section.ts';
import { openBatch, type OpenedBatch } from '../../src/ingest/batch/open-batch.ts';
import { tempDir } from '../support/temp-dir.ts';
import { jsonl, readUsers, registryYaml, writeFiles } from './support/fixtures.ts';
import { writeParquet } from './support/parquet-writer.ts';

const USERS = 40;
const T0 = 1_700_000_000_000;

/** The expected view rows of a user, newest first, as the store returns them. */
function expectedViews(user: number, perUser: number): { ts: number; article_id: number }[] {
  const out: { ts: number; article_id: number }[] = [];
  for (let k = perUser - 1; k >= 0; k--)
    out.push({ ts: T0 + k * USERS + user, article_id: (k * USERS + user) * 7 });
  return out;
}

describe('embedded backfill (worker_threads pool, LMDB)', () => {
  const tmp = tempDir('larder-batch-');
  const registryDir = path.join(tmp.dir, 'registry');
  const dataDir = path.join(tmp.dir, 'data');
  let batch: OpenedBatch;

  beforeAll(async () => {
    const regionRows = (from: number, to: number): unknown[] =>
      Array.from({ length: to - from }, (_, i) => ({
        user_id: from + i,
        region: (from + i) % 9,
        note: 'x'.repeat(40),
      }));
    const viewRows = Array.from({ length: USERS * 25 }, (_, n) => ({
      view_id: `v${n}`,
      user_id: n % USERS,
      ts: T0 + n,
      article: n * 7,
    }));
    // CSV with quoted cells, including line breaks inside quotes, which must not split records.
    const csv =
      'view_id,user_id,ts,article,source\n' +
      viewRows
        .map((r) => `${r.view_id},${r.user_id},${r.ts},${r.article},"feed, ""home""\nline ${r.view_id}"`)
        .join('\r\n') +
      '\r\n';
    const bad = Array.from({ length: 200 }, (_, i) =>
      i % 10 === 0 ? `{"user_id": ${i}, "region": "north"}` : { user_id: i, region: 1 },
    );
    writeFiles(registryDir, {
      'data/regions/part-1.jsonl': jsonl(regionRows(0, 20)),
      'data/regions/part-2.jsonl': jsonl(regionRows(20, USERS)),
      'data/views.csv': csv,
      'data/bad.jsonl': jsonl(bad),
      'registry.yaml': registryYaml(`
  regions:
    source: {format: jsonl, path: "data/regions/*.jsonl"}
    feature: user.region_id
    entityIdField: user_id
    fields: [{name: region, rename: region_id, type: int}]
  views_csv:
    source: {format: csv, path: data/views.csv}
    feature: user.recent_views
    entityIdField: user_id
    timestampField: ts
    eventIdField: view_id
    fields: [{name: article, rename: article_id, type: int}, {name: source, type: string}]
  views_parquet:
    source: {format: parquet, path: "data/views-*.parquet"}
    feature: user.recent_views
    entityIdField: user_id
    timestampField: ts
    fields: [{name: article, rename: article_id, type: int}]
    retries: 1
  bad_regions:
    source: {format: jsonl, path: data/bad.jsonl}
    feature: user.region_id
    entityIdField: user_id
    fields: [{name: region, rename: region_id, type: int}]
    maxErrorRate: 0.05
`),
    });
    await writeParquet(
      path.join(registryDir, 'data/views-1.parquet'),
      viewRows.length,
      (n) => [BigInt(viewRows[n]?.user_id ?? 0), BigInt(T0 + n), BigInt(n * 7)],
      {
        columns: [
          { name: 'user_id', type: 'int64' },
          { name: 'ts', type: 'int64' },
          { name: 'article', type: 'int64' },
        ],
        rowGroupSize: 150,
        codec: 'GZIP',
      },
    );
    batch = await openBatch({
      config: batchConfigFrom({ threads: 2 }),
      registryDir,
      dataDir,
      // Small files still get split, so the range and row-group paths are exercised.
      taskSplit: { minSplitBytes: 256, maxTaskBytes: 1000 },
    });
  });

  afterAll(async () => {
    await batch?.close();
    tmp.remove();
  });

  it('backfills JSONL split into byte ranges on record boundaries, and every row lands once', async () => {
    const job = await batch.runtime.submit('regions');
    const view = await batch.runtime.wait(job.id);
    expect(view.state).toBe('succeeded');
    expect(view.progress.tasksTotal).toBeGreaterThan(2);
    expect(view.progress.rowsRead).toBe(USERS);
    expect(view.progress.written).toBe(USERS);
    expect(view.plan?.explanation).toMatch(/task/);
    const { regions } = await readUsers(dataDir, [...Array(USERS).keys()]);
    expect(regions.map((r) => r?.value)).toEqual([...Array(USERS).keys()].map((u) => u % 9));
  });

  it('backfills CSV with quoted line breaks split into ranges, with exact rows per user', async () => {
    const view = await batch.runtime.wait((await batch.runtime.submit('views_csv')).id);
    expect(view.state).toBe('succeeded');
    expect(view.progress.tasksTotal).toBeGreaterThan(2);
    expect(view.progress.rowsRead).toBe(USERS * 25);
    expect(view.progress.rejected).toBe(0);
    const { views } = await readUsers(dataDir, [0, 17, 39]);
    for (const [i, user] of [0, 17, 39].entries()) {
      const rows = views[i] ?? [];
      expect(rows.map((r) => ({ ts: r.ts, article_id: r.values.article_id }))).toEqual(
        expectedViews(user, 25),
      );
      expect(rows[0]?.values.source).toBe(`feed, "home"\nline v${24 * USERS + user}`);
      expect(rows[0]?.eventId).toBe(`v${24 * USERS + user}`);
    }
  });

  it('re-running a backfill is idempotent: the same input gives the same final state', async () => {
    const before = await readUsers(dataDir, [...Array(USERS).keys()]);
    const again = await batch.runtime.wait((await batch.runtime.submit('views_csv')).id);
    const regions = await batch.runtime.wait((await batch.runtime.submit('regions')).id);
    expect(again.state).toBe('succeeded');
    expect(regions.state).toBe('succeeded');
    const after = await readUsers(dataDir, [...Array(USERS).keys()]);
    expect(after).toEqual(before);
    expect(after.views.every((rows) => rows.length === 25)).toBe(true);
  });

  it('backfills Parquet by row groups (GZIP pages, INT64 columns), idempotent with the CSV rows by hash ids', async () => {
    const view = await batch.runtime.wait((await batch.runtime.submit('views_parquet')).id);
    expect(view.state).toBe('succeeded');
    expect(view.progress.rowsTotal).toBe(USERS * 25);
    expect(view.progress.rowsRead).toBe(USERS * 25);
    expect(view.progress.tasksTotal).toBeGreaterThan(1);
    // These rows have no eventIdField, so their ids are row hashes: 25 new rows per user beside the CSV ones.
    const { views } = await readUsers(dataDir, [5]);
    const rows = views[0] ?? [];
    expect(rows).toHaveLength(50);
    const parquetRows = rows.filter((r) => r.values.source === undefined);
    expect(parquetRows.map((r) => ({ ts: r.ts, article_id: r.values.article_id }))).toEqual(
      expectedViews(5, 25),
    );
  });

  it('fails a job whose bad rows exceed maxErrorRate, with a clear message and a sample of bad rows', async () => {
    const view = await batch.runtime.wait((await batch.runtime.submit('bad_regions')).id);
    expect(view.state).toBe('failed');
    expect(view.failure?.code).toBe('LARDER_ERR_BATCH_ERROR_RATE');
    expect(view.failure?.message).toMatch(/20 of 200 rows rejected \(10\.00%\), above maxErrorRate 5\.00%/);
    expect(view.progress.rejected).toBe(20);
    expect(view.errorSamples[0]).toMatchObject({
      code: 'LARDER_ERR_EVENT_TYPE',
      row: '{"user_id":0,"region":"north"}',
    });
    expect(view.errorSamples[0]?.position).toMatch(/bad\.jsonl@0$/);
    const logs = await batch.runtime.jobs.logs(view.id);
    expect(logs.some((l) => l.message.includes('job failed: LARDER_ERR_BATCH_ERROR_RATE'))).toBe(true);
  });

  it('--from/--to keep only rows in the time range', async () => {
    const job = await batch.runtime.submit('views_csv', { from: T0 + 100, to: T0 + 200 });
    const view = await batch.runtime.wait(job.id);
    expect(view.state).toBe('succeeded');
    expect(view.progress.written).toBe(100);
    expect(view.progress.filtered).toBe(USERS * 25 - 100);
  });

  it('rejects an unknown ingestion with its own code, naming the declared ones', async () => {
    await expect(batch.runtime.submit('nope')).rejects.toMatchObject({
      code: 'LARDER_ERR_BATCH_UNKNOWN_INGESTION',
      message: expect.stringContaining('regions, views_csv'),
    });
  });
});
