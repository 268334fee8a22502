/**
 * What every reader yields: rows in batches, with enough to place a bad row in its file.
 */

/** A record that could not be read as a row (bad JSON, wrong CSV column count). */
export class BadRecord {
  constructor(
    readonly reason: string,
    /** The raw text of the record, for the job's error sample. */
    readonly raw: string,
  ) {}
}

export interface RecordBatch {
  /** Each row is a plain object, or a {@link BadRecord}. */
  readonly rows: readonly unknown[];
  /** Where row `i` is, in the unit `positionKind` names. */
  readonly positions: readonly number[];
  /** `byte`: offset in the file (JSONL); `record`: CSV record number in the file (header is 0) or, for a slice that starts mid-file, in the slice; `row`: Parquet row index. */
  readonly positionKind: 'byte' | 'record' | 'row';
  /** Bytes of the slice consumed once this batch is processed (cumulative). */
  readonly bytesRead: number;
}

/** Rows per batch: large enough to amortise a store write, small enough to report progress often. */
export const DEFAULT_BATCH_ROWS = 5000;
