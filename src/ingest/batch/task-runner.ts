import { LarderError } from '../../errors.ts';
import type { OnlineStore, StoreWrite } from '../../store/online-store.ts';
import type { ErrorSample, JobSpec, TaskCounts, TaskSlice } from './jobs/job-types.ts';
import { positionLabel, readSlice } from './readers/read-slice.ts';
import { BadRecord, DEFAULT_BATCH_ROWS } from './readers/record-batch.ts';
import { compileRowMapper } from './row-mapper.ts';
import type { ObjectSources } from './sources/object-sources.ts';

/** Everything a worker needs to run one task, with no registry at hand: plain JSON. */
export interface TaskPayload {
  readonly jobId: string;
  readonly index: number;
  readonly slice: TaskSlice;
  readonly spec: JobSpec;
}

export interface TaskOutput {
  readonly counts: TaskCounts;
  readonly errorSamples: readonly ErrorSample[];
}

export interface TaskResult extends TaskOutput {
  /** Wall time of the run, ms. */
  readonly busyMs: number;
}

export interface TaskRunOptions {
  readonly store: OnlineStore;
  readonly sources: ObjectSources;
  readonly batchRows?: number;
  /** Called after each batch is durably written (throttle it on the receiving side). */
  readonly onProgress?: (output: TaskOutput) => void;
  /** Aborting stops the task between batches; the reason becomes the error. */
  readonly signal?: AbortSignal;
}

const MAX_TASK_SAMPLES = 10;
const MAX_SAMPLE_CHARS = 500;

/**
 * Runs one task: reads its slice batch by batch, maps each row, and writes each batch's writes in
 * one store call. The next batch is read and mapped while the previous one is being written, with
 * at most one write in flight. Bad rows are counted and sampled, never fatal; a read or store
 * failure throws (the runner retries the task: all writes are idempotent).
 */
export async function runTask(payload: TaskPayload, options: TaskRunOptions): Promise<TaskResult> {
  const started = performance.now();
  const { slice, spec } = payload;
  const map = compileRowMapper(spec, slice);
  const counts = { rowsRead: 0, written: 0, filtered: 0, rejected: 0, bytesRead: 0 };
  const errorSamples: ErrorSample[] = [];
  let inFlight: Promise<void> | undefined;
  let pendingCounts: { written: number; bytesRead: number } | undefined;

  const settle = async (): Promise<void> => {
    if (inFlight === undefined) return;
    await inFlight;
    inFlight = undefined;
    if (pendingCounts !== undefined) {
      counts.written += pendingCounts.written;
      counts.bytesRead = pendingCounts.bytesRead;
      pendingCounts = undefined;
    }
    options.onProgress?.({ counts: { ...counts }, errorSamples: [...errorSamples] });
  };

  for await (const batch of readSlice(options.sources, slice, options.batchRows ?? DEFAULT_BATCH_ROWS)) {
    checkAborted(options.signal);
    const writes: StoreWrite[] = [];
    const { rows, positions } = batch;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const outcome = map(row);
      if (outcome.outcome === 'written') {
        writes.push(outcome.write);
      } else if (outcome.outcome === 'filtered') {
        counts.filtered++;
      } else {
        counts.rejected++;
        if (errorSamples.length < MAX_TASK_SAMPLES) {
          errorSamples.push({
            task: payload.index,
            position: positionLabel(slice, batch.positionKind, positions[i] ?? -1),
            code: outcome.code,
            reason: outcome.reason,
            row: sampleText(row),
          });
        }
      }
    }
    counts.rowsRead += rows.length;
    await settle();
    checkAborted(options.signal);
    pendingCounts = { written: writes.length, bytesRead: batch.bytesRead };
    inFlight = writes.length > 0 ? options.store.write(writes) : Promise.resolve();
    // Awaited by the next settle(); a handler now keeps an early failure from being "unhandled".
    inFlight.catch(() => undefined);
  }
  await settle();
  counts.bytesRead = slice.bytes;
  return { counts, errorSamples, busyMs: Math.round(performance.now() - started) };
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted !== true) return;
  const reason: unknown = signal.reason;
  if (reason instanceof LarderError) throw reason;
  throw new LarderError(
    'LARDER_ERR_BATCH_CANCELLED',
    reason instanceof Error ? reason.message : 'the task was stopped',
  );
}

function sampleText(row: unknown): string {
  const text = row instanceof BadRecord ? row.raw : safeJson(row);
  return text.length > MAX_SAMPLE_CHARS ? `${text.slice(0, MAX_SAMPLE_CHARS)}…` : text;
}

function safeJson(value: unknown): string {
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value)
    );
  } catch {
    return String(value);
  }
}
