import { StringDecoder } from 'node:string_decoder';
import { CsvParser } from './csv-parser.ts';
import { BadRecord, type RecordBatch } from './record-batch.ts';

/**
 * Reads CSV rows into objects keyed by the header. The header is the first record when the slice
 * starts at byte 0, otherwise the one the task split read from the file's start. Empty cells are left
 * out of the row (they read as missing, like an absent JSON key); blank lines are skipped; a record
 * with another number of cells than the header is a BadRecord.
 */
export async function* readCsv(
  chunks: AsyncIterable<Uint8Array>,
  options: { readonly header: readonly string[] | undefined; readonly batchRows: number },
): AsyncIterable<RecordBatch> {
  const decoder = new StringDecoder('utf8');
  const parser = new CsvParser();
  let header = options.header;
  let recordNo = header === undefined ? -1 : 0;
  let rows: unknown[] = [];
  let positions: number[] = [];
  let bytesRead = 0;

  const take = (records: string[][]): void => {
    for (const record of records) {
      if (record.length === 1 && record[0] === '') continue;
      if (header === undefined) {
        header = record.map((name) => name.trim());
        recordNo = 0;
        continue;
      }
      recordNo++;
      positions.push(recordNo);
      if (record.length !== header.length) {
        rows.push(
          new BadRecord(
            `the record has ${record.length} cells but the header has ${header.length}`,
            record.join(','),
          ),
        );
        continue;
      }
      const row: Record<string, unknown> = {};
      for (let i = 0; i < record.length; i++) {
        const value = record[i] as string;
        if (value !== '') row[header[i] as string] = value;
      }
      rows.push(row);
    }
  };

  for await (const chunk of chunks) {
    bytesRead += chunk.byteLength;
    take(parser.push(decoder.write(chunk as Buffer)));
    if (rows.length >= options.batchRows) {
      yield { rows, positions, positionKind: 'record', bytesRead };
      rows = [];
      positions = [];
    }
  }
  take(parser.push(decoder.end()));
  take(parser.end());
  yield { rows, positions, positionKind: 'record', bytesRead };
}
