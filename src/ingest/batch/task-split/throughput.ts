import type { JobSpec, TaskSlice } from '../jobs/job-types.ts';
import type { JobStore } from '../jobs/job-store.ts';
import { readSlice } from '../readers/read-slice.ts';
import { compileRowMapper } from '../row-mapper.ts';
import type { ObjectSources } from '../sources/object-sources.ts';

/** Per-worker throughput, and where the figure came from. */
export interface Throughput {
  readonly bytesPerSec: number;
  readonly source: 'history' | 'calibration' | 'default';
}

/** Used only when nothing can be measured (an empty first slice). */
export const DEFAULT_BYTES_PER_SEC = 20 * 1024 * 1024;
const HISTORY_RUNS = 5;
const CALIBRATION_ROWS = 20_000;
const CALIBRATION_MS = 1500;
/**
 * Calibration reads and maps rows without writing them; in this codebase's measurements the
 * durable write of a batch costs about as much again, so the measured rate is halved.
 */
const WRITE_SHARE = 0.5;

const historyKey = (ingestion: string): string => `throughput:${ingestion}`;

/**
 * The per-worker throughput to size a job with: the median of the ingestion's last runs when
 * there are any (measured over whole tasks, writes included), else a calibration run now.
 */
export async function estimateThroughput(
  jobs: JobStore,
  spec: JobSpec,
  sampleSlice: TaskSlice | undefined,
  sources: ObjectSources,
): Promise<Throughput> {
  const history = (await jobs.getMeta(historyKey(spec.ingestion.name))) as number[] | undefined;
  if (Array.isArray(history) && history.length > 0) {
    const sorted = [...history].sort((a, b) => a - b);
    return { bytesPerSec: sorted[Math.floor(sorted.length / 2)] as number, source: 'history' };
  }
  if (sampleSlice === undefined) return { bytesPerSec: DEFAULT_BYTES_PER_SEC, source: 'default' };
  const measured = await calibrate(spec, sampleSlice, sources);
  return measured === undefined
    ? { bytesPerSec: DEFAULT_BYTES_PER_SEC, source: 'default' }
    : { bytesPerSec: measured, source: 'calibration' };
}

/** Records the per-worker throughput a finished job achieved, for the next split. */
export async function recordThroughput(
  jobs: JobStore,
  ingestion: string,
  bytesPerSec: number,
): Promise<void> {
  if (!Number.isFinite(bytesPerSec) || bytesPerSec <= 0) return;
  const history = ((await jobs.getMeta(historyKey(ingestion))) as number[] | undefined) ?? [];
  await jobs.putMeta(historyKey(ingestion), [...history, Math.round(bytesPerSec)].slice(-HISTORY_RUNS));
}

/** Reads and maps the start of a slice for a bounded time; bytes/s including the write share. */
async function calibrate(
  spec: JobSpec,
  slice: TaskSlice,
  sources: ObjectSources,
): Promise<number | undefined> {
  const map = compileRowMapper(spec, slice);
  const started = performance.now();
  let rows = 0;
  let bytes = 0;
  for await (const batch of readSlice(sources, slice, 2000)) {
    for (const row of batch.rows) map(row);
    rows += batch.rows.length;
    bytes = batch.bytesRead;
    if (rows >= CALIBRATION_ROWS || performance.now() - started > CALIBRATION_MS) break;
  }
  const seconds = (performance.now() - started) / 1000;
  if (bytes <= 0 || seconds <= 0) return undefined;
  return (bytes / seconds) * WRITE_SHARE;
}
