import { parquetRead } from 'hyparquet';
import { LarderError } from '../../../errors.ts';
import type { ObjectSource } from '../sources/object-source.ts';
import { asyncBufferOf, PARQUET_COMPRESSORS, readParquetMetadata, rowGroupsOf } from './parquet-file.ts';
import type { RecordBatch } from './record-batch.ts';

/**
 * Reads the row groups `[groupStart, groupEnd)` of a Parquet file as row objects, one group at a
 * time (hyparquet decodes whole column chunks), handed out in batches of `batchRows`.
 *
 * Values are made JSON-like for the mapping language: INT64 (bigint) becomes a number when it is
 * a safe integer and a decimal string otherwise; timestamps (Date) become epoch ms.
 */
export async function* readParquet(
  source: ObjectSource,
  slice: {
    readonly uri: string;
    readonly objectSize: number;
    readonly rowGroupStart: number;
    readonly rowGroupEnd: number;
  },
  batchRows: number,
): AsyncIterable<RecordBatch> {
  const file = asyncBufferOf(source, slice.uri, slice.objectSize);
  const metadata = await readParquetMetadata(file, slice.uri);
  const groups = rowGroupsOf(metadata);
  let bytesRead = 0;
  for (let g = slice.rowGroupStart; g < slice.rowGroupEnd; g++) {
    const group = groups[g];
    if (group === undefined) break;
    let rows: Record<string, unknown>[] = [];
    try {
      await parquetRead({
        file,
        metadata,
        rowStart: group.rowStart,
        rowEnd: group.rowStart + group.rows,
        rowFormat: 'object',
        compressors: PARQUET_COMPRESSORS,
        onComplete: (result) => {
          rows = result as Record<string, unknown>[];
        },
      });
    } catch (cause) {
      throw new LarderError(
        'LARDER_ERR_BATCH_FORMAT',
        `cannot decode row group ${g} of ${slice.uri}: ${(cause as Error).message}`,
        { cause, details: { uri: slice.uri, rowGroup: g } },
      );
    }
    for (let i = 0; i < rows.length; i += batchRows) {
      const part = rows.slice(i, i + batchRows);
      for (const row of part) normalizeRow(row);
      const positions = part.map((_, k) => group.rowStart + i + k);
      const done = Math.min(rows.length, i + batchRows) / Math.max(1, rows.length);
      yield {
        rows: part,
        positions,
        positionKind: 'row',
        bytesRead: bytesRead + Math.round(group.bytes * done),
      };
    }
    bytesRead += group.bytes;
  }
}

function normalizeRow(row: Record<string, unknown>): void {
  for (const key in row) {
    const value = row[key];
    if (typeof value === 'bigint') row[key] = normalizeBigint(value);
    else if (value instanceof Date) row[key] = value.getTime();
    else if (Array.isArray(value))
      row[key] = value.map((v) => (typeof v === 'bigint' ? normalizeBigint(v) : v));
  }
}

function normalizeBigint(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}
