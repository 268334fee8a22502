import type { TaskSlice } from '../jobs/job-types.ts';
import type { ObjectSources } from '../sources/object-sources.ts';
import { readCsv } from './csv-reader.ts';
import { readJsonl } from './jsonl-reader.ts';
import { readParquet } from './parquet-reader.ts';
import type { RecordBatch } from './record-batch.ts';

/** The rows of one task's slice, whatever the format and wherever the bytes live. */
export function readSlice(
  sources: ObjectSources,
  slice: TaskSlice,
  batchRows: number,
): AsyncIterable<RecordBatch> {
  const source = sources.for(slice.uri);
  switch (slice.format) {
    case 'jsonl':
      return readJsonl(source.stream(slice.uri, slice.start, slice.end), slice.start, batchRows);
    case 'csv':
      return readCsv(source.stream(slice.uri, slice.start, slice.end), {
        header: slice.start === 0 ? undefined : slice.header,
        batchRows,
      });
    case 'parquet':
      return readParquet(
        source,
        {
          uri: slice.uri,
          objectSize: slice.objectSize,
          rowGroupStart: slice.rowGroupStart ?? 0,
          rowGroupEnd: slice.rowGroupEnd ?? 0,
        },
        batchRows,
      );
  }
}

/** Where a row is, for people: `file@byte`, `file record n`, `file#row`. */
export function positionLabel(slice: TaskSlice, kind: RecordBatch['positionKind'], position: number): string {
  switch (kind) {
    case 'byte':
      return `${slice.uri}@${position}`;
    case 'record':
      return slice.start === 0
        ? `${slice.uri} record ${position}`
        : `${slice.uri} record ${position} after byte ${slice.start}`;
    case 'row':
      return `${slice.uri}#${position}`;
  }
}
