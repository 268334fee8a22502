import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { parquetMetadataAsync, type AsyncBuffer, type Compressors, type FileMetaData } from 'hyparquet';
import { LarderError } from '../../../errors.ts';
import type { ObjectSource } from '../sources/object-source.ts';

/**
 * Parquet access through hyparquet (pure JS). Codecs: UNCOMPRESSED and SNAPPY (built in), GZIP and
 * BROTLI (node:zlib). ZSTD and LZ4 need the `hyparquet-compressors` package, which Larder does not
 * ship yet; such files fail with LARDER_ERR_BATCH_FORMAT naming the codec.
 */
export const PARQUET_COMPRESSORS: Compressors = {
  GZIP: (input) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(brotliDecompressSync(input)),
};

const SUPPORTED_CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI']);

/** An object as hyparquet's random-access buffer. Footer reads are small ranged reads. */
export function asyncBufferOf(source: ObjectSource, uri: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const bytes = await source.read(uri, start, end ?? size);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

export interface RowGroupInfo {
  /** Index of the group's first row in the file. */
  readonly rowStart: number;
  readonly rows: number;
  /** Compressed bytes of the group's column chunks. */
  readonly bytes: number;
}

/** Reads a Parquet footer; LARDER_ERR_BATCH_FORMAT when the file is not Parquet or uses a codec we lack. */
export async function readParquetMetadata(file: AsyncBuffer, uri: string): Promise<FileMetaData> {
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (cause) {
    throw new LarderError(
      'LARDER_ERR_BATCH_FORMAT',
      `${uri} is not a readable Parquet file: ${(cause as Error).message}`,
      {
        cause,
        details: { uri },
      },
    );
  }
  for (const group of metadata.row_groups) {
    for (const column of group.columns) {
      const codec = column.meta_data?.codec;
      if (codec !== undefined && !SUPPORTED_CODECS.has(codec)) {
        throw new LarderError(
          'LARDER_ERR_BATCH_FORMAT',
          `${uri} uses the ${codec} codec (column ${column.meta_data?.path_in_schema.join('.')}); Larder reads UNCOMPRESSED, SNAPPY, GZIP and BROTLI Parquet (ZSTD/LZ4 need hyparquet-compressors)`,
          { details: { uri, codec } },
        );
      }
    }
  }
  return metadata;
}

export function rowGroupsOf(metadata: FileMetaData): RowGroupInfo[] {
  let rowStart = 0;
  return metadata.row_groups.map((group) => {
    const rows = Number(group.num_rows);
    const bytes = group.columns.reduce((sum, c) => sum + Number(c.meta_data?.total_compressed_size ?? 0), 0);
    const info = { rowStart, rows, bytes };
    rowStart += rows;
    return info;
  });
}
