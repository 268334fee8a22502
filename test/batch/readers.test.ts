import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvParser } from '../../src/ingest/batch/readers/csv-parser.ts';
import { readJsonl } from '../../src/ingest/batch/readers/jsonl-reader.ts';
import { readParquet } from '../../src/ingest/batch/readers/parquet-reader.ts';
import { BadRecord } from '../../src/ingest/batch/readers/record-batch.ts';
import { globBase, globToRegExp } from '../../src/ingest/batch/sources/glob.ts';
import { LocalObjects } from '../../src/ingest/batch/sources/local-objects.ts';
import { tempDir } from '../support/temp-dir.ts';
import { writeFiles } from './support/fixtures.ts';
import { writeParquet } from './support/parquet-writer.ts';

const tmp = tempDir('larder-readers-');
afterAll(() => tmp.remove());

async function* chunksOf(text: string, size: number): AsyncIterable<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('CSV parser', () => {
  const text = 'a,b,c\r\n1,"x, ""y""",\r\n2,"multi\nline",z\n"",plain,"tail"';
  const expected = [
    ['a', 'b', 'c'],
    ['1', 'x, "y"', ''],
    ['2', 'multi\nline', 'z'],
    ['', 'plain', 'tail'],
  ];
  it('parses quotes, doubled quotes, CRLF and line breaks in quotes, however the input is chunked', () => {
    for (let size = 1; size <= text.length; size++) {
      const parser = new CsvParser();
      const records: string[][] = [];
      for (let i = 0; i < text.length; i += size) records.push(...parser.push(text.slice(i, i + size)));
      records.push(...parser.end());
      expect(records, `chunk size ${size}`).toEqual(expected);
    }
  });
});

describe('JSONL reader', () => {
  it('reads rows across chunk boundaries, skips blank lines, and keeps bad lines as BadRecords with their offsets', async () => {
    const text = '{"a":1}\r\n\n{"a":"é"}\nnot json\n[1,2]\n{"a":3}';
    for (const size of [1, 3, 7, 64]) {
      const rows: unknown[] = [];
      const positions: number[] = [];
      for await (const batch of readJsonl(chunksOf(text, size), 100, 2)) {
        rows.push(...batch.rows);
        positions.push(...batch.positions);
      }
      expect(rows.filter((r) => !(r instanceof BadRecord))).toEqual([{ a: 1 }, { a: 'é' }, { a: 3 }]);
      const bad = rows.filter((r): r is BadRecord => r instanceof BadRecord);
      expect(bad.map((b) => b.raw)).toEqual(['not json', '[1,2]']);
      expect(bad[1]?.reason).toBe('each line must be a JSON object');
      expect(positions).toEqual([100, 110, 121, 130, 136]);
    }
  });
});

describe('Parquet reader', () => {
  // The codecs the reader claims (parquet-file.ts): UNCOMPRESSED and SNAPPY built in, GZIP and BROTLI.
  it.each(['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI'] as const)(
    'reads INT64 as numbers, optional nulls as null, and the requested row groups only (%s)',
    async (codec) => {
      const file = path.join(tmp.dir, `typed-${codec}.parquet`);
      await writeParquet(
        file,
        30,
        (i) => [BigInt(i), i / 2, `s${i}`, i % 2 === 0, i % 3 === 0 ? null : BigInt(2 ** 53) + BigInt(i)],
        {
          columns: [
            { name: 'id', type: 'int64' },
            { name: 'half', type: 'double' },
            { name: 's', type: 'string' },
            { name: 'even', type: 'boolean' },
            { name: 'big', type: 'int64', optional: true },
          ],
          rowGroupSize: 10,
          codec,
        },
      );
      const objects = new LocalObjects();
      const [object] = await objects.list(file);
      const rows: Record<string, unknown>[] = [];
      for await (const batch of readParquet(
        objects,
        { uri: file, objectSize: object?.size ?? 0, rowGroupStart: 1, rowGroupEnd: 2 },
        4,
      )) {
        rows.push(...(batch.rows as Record<string, unknown>[]));
        expect(batch.positionKind).toBe('row');
      }
      expect(rows).toHaveLength(10);
      expect(rows[0]).toEqual({
        id: 10,
        half: 5,
        s: 's10',
        even: true,
        big: (BigInt(2 ** 53) + 10n).toString(),
      });
      expect(rows[2]?.big).toBeNull();
    },
  );

  it('rejects a codec it cannot decode with LARDER_ERR_BATCH_FORMAT naming it', async () => {
    const file = path.join(tmp.dir, 'zstd.parquet');
    await writeParquet(file, 5, (i) => [BigInt(i)], {
      columns: [{ name: 'id', type: 'int64' }],
      rowGroupSize: 5,
      codec: 'ZSTD',
      // node:zlib has no ZSTD on Node 20: the pages stay as they are, only the footer declares ZSTD,
      // which is all the reader looks at before it refuses the file.
      compressors: { ZSTD: (input) => input },
    });
    const objects = new LocalObjects();
    const [object] = await objects.list(file);
    const read = async (): Promise<void> => {
      for await (const _ of readParquet(
        objects,
        { uri: file, objectSize: object?.size ?? 0, rowGroupStart: 0, rowGroupEnd: 1 },
        10,
      )) {
        // drain
      }
    };
    await expect(read()).rejects.toMatchObject({
      code: 'LARDER_ERR_BATCH_FORMAT',
      message: expect.stringContaining('ZSTD'),
    });
  });
});

describe('globs', () => {
  it('match within and across path segments, with alternatives and classes', () => {
    expect(globToRegExp('data/*.jsonl').test('data/a.jsonl')).toBe(true);
    expect(globToRegExp('data/*.jsonl').test('data/x/a.jsonl')).toBe(false);
    expect(globToRegExp('data/**/*.jsonl').test('data/a.jsonl')).toBe(true);
    expect(globToRegExp('data/**/*.jsonl').test('data/x/y/a.jsonl')).toBe(true);
    expect(globToRegExp('part-{1,3}.csv').test('part-3.csv')).toBe(true);
    expect(globToRegExp('part-{1,3}.csv').test('part-2.csv')).toBe(false);
    expect(globToRegExp('p[0-4].csv').test('p4.csv')).toBe(true);
    expect(globBase('prefix/2024/*/x.parquet')).toBe('prefix/2024/');
  });

  it('list local files sorted, across directories with **', async () => {
    writeFiles(tmp.dir, { 'g/b/2.jsonl': '', 'g/a/1.jsonl': '', 'g/a/skip.csv': '', 'g/3.jsonl': '' });
    const found = await new LocalObjects().list(path.join(tmp.dir, 'g/**/*.jsonl'));
    expect(found.map((o) => path.relative(tmp.dir, o.uri))).toEqual([
      'g/3.jsonl',
      'g/a/1.jsonl',
      'g/b/2.jsonl',
    ]);
  });
});
