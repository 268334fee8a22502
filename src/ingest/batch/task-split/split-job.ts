import { LarderError } from '../../../errors.ts';
import type { IngestionDef } from '../ingestion-def.ts';
import type { TaskSlice, TaskSplit } from '../jobs/job-types.ts';
import {
  asyncBufferOf,
  readParquetMetadata,
  rowGroupsOf,
  type RowGroupInfo,
} from '../readers/parquet-file.ts';
import type { SourceObject } from '../sources/object-source.ts';
import type { ObjectSources } from '../sources/object-sources.ts';
import { csvBoundaries, csvHeader, jsonlBoundaries } from './record-boundaries.ts';
import type { Throughput } from './throughput.ts';

export interface SplitOptions {
  /** Workers that could run tasks now: pool threads (embedded) or queue workers (distributed). */
  readonly workersAvailable: number;
  /** The job should finish in about this long. */
  readonly targetSeconds: number;
  /** Never split a text file into ranges smaller than this. Default 32 MiB. */
  readonly minSplitBytes?: number;
  /** Never give a task more than this (bounds the work a failed attempt repeats). Default 256 MiB. */
  readonly maxTaskBytes?: number;
  /** Tasks per worker, so uneven tasks still balance. Default 2. */
  readonly tasksPerWorker?: number;
}

/** One unit a split can place whole: a file, a file's row groups, or (text) part of a file. */
interface Unit {
  readonly object: SourceObject;
  readonly bytes: number;
  readonly rows?: number;
  readonly groups?: readonly RowGroupInfo[];
}

export interface SplitResult {
  readonly slices: TaskSlice[];
  readonly split: TaskSplit;
}

const MiB = 1024 * 1024;

/**
 * Splits a job's input into tasks and sizes its parallelism.
 *
 * Parallelism (`auto`): the work (total bytes) divided by the measured per-worker throughput gives
 * the time one worker would take; dividing that by the target duration gives the workers needed,
 * bounded by 1 and by the workers available. A fixed `parallelism: N` is taken as given, still
 * bounded by the workers available.
 *
 * Tasks: about `tasksPerWorker` per worker (at least one per `maxTaskBytes`), so a slow task does
 * not leave the others idle and a retry repeats little work. Text files larger than a task are cut
 * into byte ranges moved forward to record boundaries; Parquet files are cut between row groups;
 * small files are one task each.
 */
export async function splitJob(
  ingestion: IngestionDef,
  objects: readonly SourceObject[],
  sources: ObjectSources,
  estimate: (sample: TaskSlice) => Promise<Throughput>,
  options: SplitOptions,
): Promise<SplitResult> {
  if (objects.length === 0) {
    throw new LarderError('LARDER_ERR_BATCH_SOURCE', `no files match ${ingestion.source.path}`, {
      details: { ingestion: ingestion.name, path: ingestion.source.path },
    });
  }
  const format = ingestion.source.format;
  const units: Unit[] = [];
  for (const object of objects) {
    if (format === 'parquet') {
      const source = sources.for(object.uri);
      const metadata = await readParquetMetadata(asyncBufferOf(source, object.uri, object.size), object.uri);
      const groups = rowGroupsOf(metadata);
      const bytes = groups.reduce((n, g) => n + g.bytes, 0);
      units.push({ object, bytes, rows: groups.reduce((n, g) => n + g.rows, 0), groups });
    } else {
      units.push({ object, bytes: object.size });
    }
  }
  const totalBytes = units.reduce((n, u) => n + u.bytes, 0);
  const totalRows = format === 'parquet' ? units.reduce((n, u) => n + (u.rows ?? 0), 0) : undefined;
  const available = Math.max(1, options.workersAvailable);
  const minSplit = options.minSplitBytes ?? 32 * MiB;
  const maxTask = options.maxTaskBytes ?? 256 * MiB;

  const why: string[] = [];
  let parallelism: number;
  let used: TaskSplit['throughput'];
  if (ingestion.parallelism !== 'auto') {
    parallelism = Math.min(ingestion.parallelism, available);
    used = { bytesPerSec: 0, source: 'fixed' };
    why.push(
      `parallelism ${ingestion.parallelism} is fixed in the spec` +
        (parallelism < ingestion.parallelism ? `, bounded by the ${available} workers available` : ''),
    );
  } else {
    const throughput = await estimate(sampleSlice(units[0] as Unit, format));
    const rate = throughput.bytesPerSec;
    used = { bytesPerSec: rate, source: throughput.source };
    const oneWorkerSeconds = rate > 0 ? totalBytes / rate : 0;
    const needed = Math.max(1, Math.ceil(oneWorkerSeconds / options.targetSeconds));
    parallelism = Math.min(needed, available);
    why.push(
      `${formatBytes(totalBytes)} at ${formatBytes(rate)}/s per worker (${describeSource(used.source)}) is ` +
        `${oneWorkerSeconds.toFixed(1)} s for one worker; a ${options.targetSeconds} s target needs ${needed}` +
        (needed > available ? `, bounded by the ${available} workers available` : '') +
        ` → ${parallelism} worker${parallelism === 1 ? '' : 's'}`,
    );
  }

  const perWorker = options.tasksPerWorker ?? 2;
  const desiredTasks = Math.max(
    parallelism === 1 ? 1 : parallelism * perWorker,
    Math.ceil(totalBytes / maxTask),
  );
  // The minimum split never stops a job from using the parallelism it was given.
  const floor = Math.min(minSplit, Math.ceil(totalBytes / parallelism));
  const taskBytes = Math.min(maxTask, Math.max(floor, Math.ceil(totalBytes / desiredTasks)));

  const slices: TaskSlice[] = [];
  for (const unit of units) {
    if (format === 'parquet') slices.push(...parquetSlices(unit, taskBytes));
    else slices.push(...(await textSlices(unit, format, taskBytes, sources)));
  }
  const largest = Math.max(...slices.map((s) => s.bytes));
  why.push(
    `${slices.length} task${slices.length === 1 ? '' : 's'} over ${objects.length} file${objects.length === 1 ? '' : 's'} ` +
      `(aim ${formatBytes(taskBytes)} each, ${format === 'parquet' ? 'cut between row groups' : 'cut on record boundaries'}; largest ${formatBytes(largest)})`,
  );

  return {
    slices,
    split: {
      files: objects.length,
      tasks: slices.length,
      parallelism: Math.min(parallelism, slices.length),
      workersAvailable: available,
      totalBytes,
      totalRows,
      throughput: used,
      targetSeconds: options.targetSeconds,
      explanation: why.join('; '),
    },
  };
}

/** The start of the first file, for calibration: the whole file (text) or its first row group. */
function sampleSlice(unit: Unit, format: TaskSlice['format']): TaskSlice {
  const first = unit.groups?.[0];
  if (format === 'parquet') {
    return {
      ...baseSlice(unit.object, format),
      start: 0,
      end: unit.object.size,
      rowGroupStart: 0,
      rowGroupEnd: first === undefined ? 0 : 1,
      bytes: first?.bytes ?? 0,
      rows: first?.rows ?? 0,
    };
  }
  return { ...baseSlice(unit.object, format), start: 0, end: unit.object.size, bytes: unit.object.size };
}

function parquetSlices(unit: Unit, taskBytes: number): TaskSlice[] {
  const groups = unit.groups ?? [];
  const out: TaskSlice[] = [];
  let first = 0;
  while (first < groups.length) {
    let last = first;
    let bytes = (groups[first] as RowGroupInfo).bytes;
    while (last + 1 < groups.length && bytes + (groups[last + 1] as RowGroupInfo).bytes <= taskBytes) {
      last++;
      bytes += (groups[last] as RowGroupInfo).bytes;
    }
    const rows = groups.slice(first, last + 1).reduce((n, g) => n + g.rows, 0);
    out.push({
      ...baseSlice(unit.object, 'parquet'),
      start: 0,
      end: unit.object.size,
      rowGroupStart: first,
      rowGroupEnd: last + 1,
      bytes,
      rows,
    });
    first = last + 1;
  }
  return out;
}

async function textSlices(
  unit: Unit,
  format: 'jsonl' | 'csv',
  taskBytes: number,
  sources: ObjectSources,
): Promise<TaskSlice[]> {
  const { object } = unit;
  const pieces = Math.round(object.size / taskBytes);
  if (pieces <= 1) return [{ ...baseSlice(object, format), start: 0, end: object.size, bytes: object.size }];
  const source = sources.for(object.uri);
  const points = Array.from({ length: pieces - 1 }, (_, i) => Math.round(((i + 1) * object.size) / pieces));
  const boundaries =
    format === 'jsonl'
      ? await jsonlBoundaries(source, object, points)
      : await csvBoundaries(source, object, points);
  const header = format === 'csv' ? await csvHeader(source, object) : undefined;
  const edges = [0, ...boundaries, object.size];
  const out: TaskSlice[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const start = edges[i] as number;
    const end = edges[i + 1] as number;
    out.push({
      ...baseSlice(object, format),
      start,
      end,
      bytes: end - start,
      ...(header === undefined ? {} : { header }),
    });
  }
  return out;
}

function baseSlice(
  object: SourceObject,
  format: TaskSlice['format'],
): Pick<TaskSlice, 'uri' | 'format' | 'objectSize' | 'mtimeMs'> {
  return { uri: object.uri, format, objectSize: object.size, mtimeMs: object.mtimeMs };
}

function describeSource(source: TaskSplit['throughput']['source']): string {
  switch (source) {
    case 'history':
      return 'median of recent runs';
    case 'calibration':
      return 'calibrated now on a sample';
    case 'default':
      return 'default, nothing measured yet';
    case 'fixed':
      return 'fixed';
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MiB) return `${(bytes / (1024 * MiB)).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}
