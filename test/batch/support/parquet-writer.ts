import { open } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { CompactWriter } from './thrift-compact.ts';

/**
 * A minimal Parquet writer for fixtures: flat schemas of int64, double, string and boolean
 * columns, PLAIN encoding, one data page per column chunk, UNCOMPRESSED or GZIP. Columns may be
 * optional (null values). Larder itself only reads Parquet (through hyparquet).
 */
export type ParquetColumnType = 'int64' | 'double' | 'string' | 'boolean';

export interface ParquetColumn {
  readonly name: string;
  readonly type: ParquetColumnType;
  readonly optional?: boolean;
}

export interface ParquetWriteOptions {
  readonly columns: readonly ParquetColumn[];
  readonly rowGroupSize: number;
  readonly codec?: 'uncompressed' | 'gzip';
  /** Declares this codec id in the metadata whatever the pages hold (to test unsupported codecs). */
  readonly declaredCodecId?: number;
}

const PHYSICAL = { boolean: 0, int64: 2, double: 5, string: 6 } as const;
const CODEC = { uncompressed: 0, gzip: 2 } as const;

interface ChunkMeta {
  readonly column: ParquetColumn;
  readonly offset: number;
  readonly values: number;
  readonly uncompressed: number;
  readonly compressed: number;
}

/** Writes rows (produced lazily, one row group at a time) to a Parquet file. */
export async function writeParquet(
  file: string,
  rowCount: number,
  rowAt: (index: number) => readonly unknown[],
  options: ParquetWriteOptions,
): Promise<void> {
  const handle = await open(file, 'w');
  let offset = 0;
  const write = async (buffer: Buffer): Promise<void> => {
    await handle.write(buffer);
    offset += buffer.length;
  };
  const codec = options.codec ?? 'uncompressed';
  const groups: { rows: number; chunks: ChunkMeta[] }[] = [];
  try {
    await write(Buffer.from('PAR1'));
    for (let start = 0; start < rowCount; start += options.rowGroupSize) {
      const rows = Math.min(options.rowGroupSize, rowCount - start);
      const data = Array.from({ length: rows }, (_, i) => rowAt(start + i));
      const chunks: ChunkMeta[] = [];
      for (let c = 0; c < options.columns.length; c++) {
        const column = options.columns[c] as ParquetColumn;
        const page = encodePage(
          column,
          data.map((row) => row[c]),
        );
        const body = codec === 'gzip' ? gzipSync(page) : page;
        const header = new CompactWriter()
          .i32(1, 0)
          .i32(2, page.length)
          .i32(3, body.length)
          .struct(5, (w) => w.i32(1, rows).i32(2, 0).i32(3, 3).i32(4, 3))
          .end();
        const chunkOffset = offset;
        await write(header);
        await write(body);
        chunks.push({
          column,
          offset: chunkOffset,
          values: rows,
          uncompressed: header.length + page.length,
          compressed: header.length + body.length,
        });
      }
      groups.push({ rows, chunks });
    }
    const footer = new CompactWriter()
      .i32(1, 1)
      .structList(2, [undefined, ...options.columns], (w, column) => {
        if (column === undefined) {
          w.binary(4, 'schema').i32(5, options.columns.length);
          return;
        }
        w.i32(1, PHYSICAL[column.type])
          .i32(3, column.optional === true ? 1 : 0)
          .binary(4, column.name);
        if (column.type === 'string') w.i32(6, 0);
      })
      .i64(3, rowCount)
      .structList(4, groups, (w, group) => {
        w.structList(1, group.chunks, (cw, chunk) => {
          cw.i64(2, chunk.offset).struct(3, (m) =>
            m
              .i32(1, PHYSICAL[chunk.column.type])
              .i32List(2, [0, 3])
              .binaryList(3, [chunk.column.name])
              .i32(4, options.declaredCodecId ?? CODEC[codec])
              .i64(5, chunk.values)
              .i64(6, chunk.uncompressed)
              .i64(7, chunk.compressed)
              .i64(9, chunk.offset),
          );
        });
        w.i64(
          2,
          group.chunks.reduce((n, c) => n + c.uncompressed, 0),
        ).i64(3, group.rows);
      })
      .binary(6, 'larder test fixture')
      .end();
    await write(footer);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(footer.length);
    await write(length);
    await write(Buffer.from('PAR1'));
  } finally {
    await handle.close();
  }
}

function encodePage(column: ParquetColumn, values: readonly unknown[]): Buffer {
  const parts: Buffer[] = [];
  const present = values.filter((v) => v !== null && v !== undefined);
  if (column.optional === true) {
    // Definition levels: bit width 1, one bit-packed run; prefixed by its byte length.
    const groups = Math.ceil(values.length / 8);
    const bits = Buffer.alloc(groups);
    values.forEach((v, i) => {
      if (v !== null && v !== undefined) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
    });
    const run = Buffer.concat([varint((groups << 1) | 1), bits]);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(run.length);
    parts.push(length, run);
  }
  switch (column.type) {
    case 'int64': {
      const out = Buffer.alloc(8 * present.length);
      present.forEach((v, i) => out.writeBigInt64LE(BigInt(v as number | bigint), 8 * i));
      parts.push(out);
      break;
    }
    case 'double': {
      const out = Buffer.alloc(8 * present.length);
      present.forEach((v, i) => out.writeDoubleLE(Number(v), 8 * i));
      parts.push(out);
      break;
    }
    case 'string': {
      const encoded = present.map((v) => Buffer.from(String(v), 'utf8'));
      const out = Buffer.alloc(encoded.reduce((n, b) => n + 4 + b.length, 0));
      let at = 0;
      for (const b of encoded) {
        out.writeUInt32LE(b.length, at);
        b.copy(out, at + 4);
        at += 4 + b.length;
      }
      parts.push(out);
      break;
    }
    case 'boolean': {
      const out = Buffer.alloc(Math.ceil(present.length / 8));
      present.forEach((v, i) => {
        if (v === true) out[i >> 3] = (out[i >> 3] as number) | (1 << (i & 7));
      });
      parts.push(out);
      break;
    }
  }
  return Buffer.concat(parts);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
