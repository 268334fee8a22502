import type { JobView, TaskSlice } from './job-types.ts';

/** The clear failure message when a job's rejected rows exceed its maxErrorRate, else undefined. */
export function errorRateMessage(view: JobView): string | undefined {
  const { rowsRead, rejected, errorRate } = view.progress;
  const limit = view.spec.ingestion.maxErrorRate;
  if (rowsRead === 0 || errorRate <= limit) return undefined;
  const first = view.errorSamples[0];
  return (
    `${rejected} of ${rowsRead} rows rejected (${(errorRate * 100).toFixed(2)}%), above maxErrorRate ` +
    `${(limit * 100).toFixed(2)}% of ingestion ${view.ingestion}` +
    (first === undefined ? '' : `; first bad row at ${first.position}: ${first.code} ${first.reason}`)
  );
}

export function describeSlice(slice: TaskSlice): string {
  if (slice.format === 'parquet')
    return `${slice.uri} row groups ${slice.rowGroupStart}-${(slice.rowGroupEnd ?? 1) - 1}`;
  return slice.start === 0 && slice.end === slice.objectSize
    ? slice.uri
    : `${slice.uri} bytes ${slice.start}-${slice.end}`;
}
