import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { IngestionDef } from '../../src/ingest/batch/ingestion-def.ts';
import type { TaskSlice } from '../../src/ingest/batch/jobs/job-types.ts';
import { splitJob } from '../../src/ingest/batch/task-split/split-job.ts';
import { readSlice } from '../../src/ingest/batch/readers/read-slice.ts';
import { LocalObjects } from '../../src/ingest/batch/sources/local-objects.ts';
import { ObjectSources } from '../../src/ingest/batch/sources/object-sources.ts';
import { tempDir } from '../support/temp-dir.ts';
import { writeFiles } from './support/fixtures.ts';
import { writeParquet } from './support/parquet-writer.ts';

const tmp = tempDir('larder-task-split-');
afterAll(() => tmp.remove());
const sources = new ObjectSources();

function ingestion(
  format: IngestionDef['source']['format'],
  pattern: string,
  parallelism: IngestionDef['parallelism'] = 'auto',
): IngestionDef {
  return {
    name: 'test',
    source: { format, path: path.join(tmp.dir, pattern) },
    entity: 'user',
    feature: 'f',
    entityIdField: 'user_id',
    timestampField: undefined,
    eventIdField: undefined,
    filter: [],
    fields: [],
    schedule: undefined,
    timezone: undefined,
    dependsOn: [],
    parallelism,
    retries: 0,
    timeoutMs: 60_000,
    maxErrorRate: 0,
    pos: { file: 'x', line: 1, column: 1 },
  };
}

async function split(
  def: IngestionDef,
  options: { workers: number; bytesPerSec?: number; target?: number; minSplit?: number; maxTask?: number },
) {
  const objects = await new LocalObjects().list(def.source.path);
  return splitJob(
    def,
    objects,
    sources,
    async () => ({ bytesPerSec: options.bytesPerSec ?? 1e9, source: 'history' }),
    {
      workersAvailable: options.workers,
      targetSeconds: options.target ?? 60,
      minSplitBytes: options.minSplit ?? 1,
      maxTaskBytes: options.maxTask ?? 1 << 30,
    },
  );
}

async function readAll(slices: readonly TaskSlice[]): Promise<unknown[]> {
  const rows: unknown[] = [];
  for (const slice of slices)
    for await (const batch of readSlice(sources, slice, 100)) rows.push(...batch.rows);
  return rows;
}

function expectContiguous(slices: readonly TaskSlice[], size: number): void {
  expect(slices[0]?.start).toBe(0);
  expect(slices.at(-1)?.end).toBe(size);
  for (let i = 1; i < slices.length; i++) expect(slices[i]?.start).toBe(slices[i - 1]?.end);
}

describe('task split', () => {
  it('cuts a large JSONL file into byte ranges that start right after a newline, and reading them yields every row once', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ user_id: i, pad: 'é'.repeat(i % 37) }));
    writeFiles(tmp.dir, { 'big.jsonl': rows.map((r) => JSON.stringify(r)).join('\n') + '\n' });
    const file = path.join(tmp.dir, 'big.jsonl');
    const bytes = readFileSync(file);
    const { slices, split: p } = await split(ingestion('jsonl', 'big.jsonl', 4), {
      workers: 4,
      maxTask: 10_000,
    });
    expect(slices.length).toBeGreaterThanOrEqual(8);
    expect(p.parallelism).toBe(4);
    expectContiguous(slices, bytes.length);
    for (const slice of slices.slice(1)) expect(bytes[slice.start - 1]).toBe(10);
    expect(await readAll(slices)).toEqual(rows);
  });

  it('never cuts a CSV file inside a quoted field, even one holding line breaks', async () => {
    const lines = ['user_id,text'];
    for (let i = 0; i < 2000; i++) lines.push(`${i},"line one\nline ""two"", ${'x'.repeat(i % 50)}\nend"`);
    writeFiles(tmp.dir, { 'quoted.csv': lines.join('\n') + '\n' });
    const { slices } = await split(ingestion('csv', 'quoted.csv', 3), { workers: 3, maxTask: 7_000 });
    expect(slices.length).toBeGreaterThan(10);
    for (const slice of slices.slice(1)) expect(slice.header).toEqual(['user_id', 'text']);
    const rows = (await readAll(slices)) as Record<string, string>[];
    expect(rows).toHaveLength(2000);
    rows.forEach((row, i) =>
      expect(row).toEqual({ user_id: String(i), text: `line one\nline "two", ${'x'.repeat(i % 50)}\nend` }),
    );
  });

  it('splits Parquet between row groups, never inside one', async () => {
    const file = path.join(tmp.dir, 'groups.parquet');
    await writeParquet(file, 1000, (i) => [BigInt(i), `name-${i}`], {
      columns: [
        { name: 'user_id', type: 'int64' },
        { name: 'name', type: 'string' },
      ],
      rowGroupSize: 100,
    });
    const { slices, split: p } = await split(ingestion('parquet', 'groups.parquet', 2), {
      workers: 2,
      maxTask: 2500,
    });
    expect(p.totalRows).toBe(1000);
    expect(slices.length).toBeGreaterThan(2);
    expect(slices[0]?.rowGroupStart).toBe(0);
    expect(slices.at(-1)?.rowGroupEnd).toBe(10);
    for (let i = 1; i < slices.length; i++) expect(slices[i]?.rowGroupStart).toBe(slices[i - 1]?.rowGroupEnd);
    expect(slices.reduce((n, s) => n + (s.rows ?? 0), 0)).toBe(1000);
    const rows = (await readAll(slices)) as { user_id: number }[];
    expect(rows.map((r) => r.user_id)).toEqual([...Array(1000).keys()]);
  });

  it('sizes auto parallelism from the bytes and the measured throughput toward the target, bounded by the workers', async () => {
    writeFiles(tmp.dir, { 'sized/a.jsonl': `${'{"user_id":1}\n'.repeat(20_000)}` });
    const size = statSync(path.join(tmp.dir, 'sized/a.jsonl')).size;
    // One worker would need size / (size/20) = 20 s; a 5 s target needs 4 workers.
    const four = await split(ingestion('jsonl', 'sized/*.jsonl'), {
      workers: 8,
      bytesPerSec: size / 20,
      target: 5,
    });
    expect(four.split.parallelism).toBe(4);
    expect(four.split.explanation).toMatch(/is 20\.0 s for one worker; a 5 s target needs 4 → 4 workers/);
    expect(four.slices.length).toBe(8);
    // Only 2 workers available: bounded, and the split says so.
    const two = await split(ingestion('jsonl', 'sized/*.jsonl'), {
      workers: 2,
      bytesPerSec: size / 20,
      target: 5,
    });
    expect(two.split.parallelism).toBe(2);
    expect(two.split.explanation).toMatch(/bounded by the 2 workers available/);
    // A generous target: one worker, one task.
    const one = await split(ingestion('jsonl', 'sized/*.jsonl'), {
      workers: 8,
      bytesPerSec: size / 20,
      target: 600,
    });
    expect(one.split.parallelism).toBe(1);
    expect(one.slices).toHaveLength(1);
    expect(one.split.throughput).toEqual({ bytesPerSec: size / 20, source: 'history' });
  });

  it('takes a fixed parallelism as given, bounded by the workers available', async () => {
    const { split: p } = await split(ingestion('jsonl', 'sized/*.jsonl', 6), { workers: 3 });
    expect(p.parallelism).toBe(3);
    expect(p.explanation).toMatch(/parallelism 6 is fixed in the spec, bounded by the 3 workers available/);
  });

  it('fails with LARDER_ERR_BATCH_SOURCE when nothing matches the path', async () => {
    await expect(split(ingestion('jsonl', 'missing/*.jsonl'), { workers: 1 })).rejects.toMatchObject({
      code: 'LARDER_ERR_BATCH_SOURCE',
      message: expect.stringContaining('no files match'),
    });
  });
});
