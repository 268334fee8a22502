import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { CompressionCodec } from 'hyparquet';
import {
  fileWriter,
  ParquetWriter,
  type ColumnSource,
  type ParquetWriteOptions as Hyparquet,
} from 'hyparquet-writer';

/**
 * Parquet fixtures for the batch tests and the backfill benchmark, written with hyparquet-writer
 * (Larder itself only reads Parquet, through hyparquet). Flat schemas of int64, double, string and
 * boolean columns; rows are produced one row group at a time, so large files never sit in memory.
 */
export type ParquetColumnType = 'int64' | 'double' | 'string' | 'boolean';

export interface ParquetColumn {
  readonly name: string;
  readonly type: ParquetColumnType;
  /** Nullable (OPTIONAL); columns are REQUIRED otherwise. */
  readonly optional?: boolean;
}

type Compressors = NonNullable<Hyparquet['compressors']>;

export interface ParquetWriteOptions {
  readonly columns: readonly ParquetColumn[];
  /** Rows per row group; every group but the last holds exactly this many. */
  readonly rowGroupSize: number;
  /** Default UNCOMPRESSED. SNAPPY is built in; GZIP and BROTLI come from node:zlib. */
  readonly codec?: CompressionCodec;
  /** Compressors for codecs beyond those, or stand-ins that only declare a codec. */
  readonly compressors?: Compressors;
}

const TYPES = { int64: 'INT64', double: 'DOUBLE', string: 'STRING', boolean: 'BOOLEAN' } as const;

const ZLIB_COMPRESSORS: Compressors = {
  GZIP: (input) => new Uint8Array(gzipSync(input)),
  BROTLI: (input) => new Uint8Array(brotliCompressSync(input)),
};

/** Writes `rowCount` rows, `rowAt(i)` giving the values of row i in column order. */
export async function writeParquet(
  file: string,
  rowCount: number,
  rowAt: (index: number) => readonly unknown[],
  options: ParquetWriteOptions,
): Promise<void> {
  const writer = new ParquetWriter({
    writer: fileWriter(file),
    schema: [
      { name: 'root', num_children: options.columns.length },
      ...options.columns.map((column) => ({
        name: column.name,
        type: column.type === 'string' ? ('BYTE_ARRAY' as const) : TYPES[column.type],
        ...(column.type === 'string' ? { converted_type: 'UTF8' as const } : {}),
        repetition_type: column.optional === true ? ('OPTIONAL' as const) : ('REQUIRED' as const),
      })),
    ],
    codec: options.codec ?? 'UNCOMPRESSED',
    compressors: { ...ZLIB_COMPRESSORS, ...options.compressors },
  });
  for (let start = 0; start < rowCount; start += options.rowGroupSize) {
    const rows = Math.min(options.rowGroupSize, rowCount - start);
    const data = Array.from({ length: rows }, (_, i) => rowAt(start + i));
    const columnData: ColumnSource[] = options.columns.map((column, c) => ({
      name: column.name,
      data: data.map((row) => row[c]),
      type: TYPES[column.type],
      nullable: column.optional === true,
    }));
    await writer.write({ columnData, rowGroupSize: rows });
  }
  await writer.finish();
}
