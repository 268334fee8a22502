import type { FieldDef, FilterDef, SourcePos } from '../../spec/types.ts';

/**
 * A compiled batch IngestionSpec (`ingestions.<name>` in the registry): where the rows come from,
 * which feature they feed, how each row maps to a value (the same filter/field language as stream
 * events), and how the job is scheduled and bounded. Plain, JSON-serialisable data: it travels to
 * worker threads and to queue workers inside each task.
 */
export type SourceFormat = 'jsonl' | 'csv' | 'parquet';

export interface SourceSpec {
  readonly format: SourceFormat;
  /**
   * A local path or glob (relative paths already resolved against the registry directory), or an
   * `s3://bucket/prefix/*.ext` glob.
   */
  readonly path: string;
}

export interface IngestionDef {
  readonly name: string;
  readonly source: SourceSpec;
  /** The target feature group. */
  readonly entity: string;
  readonly feature: string;
  /** Dotted path of the entity id in each row. */
  readonly entityIdField: string;
  /** Dotted path of the row time (epoch ms or ISO-8601). Required for action features. */
  readonly timestampField: string | undefined;
  /** Dotted path of the row id used for idempotency; without it, a hash of the row. */
  readonly eventIdField: string | undefined;
  readonly filter: readonly FilterDef[];
  readonly fields: readonly FieldDef[];
  /** Cron expression (croner syntax, 5 or 6 fields); undefined: on demand only. */
  readonly schedule: string | undefined;
  /** IANA time zone of `schedule`. Undefined: the process's time zone. */
  readonly timezone: string | undefined;
  /** Names of ingestions that must succeed first in a DAG run. */
  readonly dependsOn: readonly string[];
  /** `auto`: sized from the data and the measured throughput; a number: exactly that many workers. */
  readonly parallelism: 'auto' | number;
  /** How many times a failed task is retried before the job fails. */
  readonly retries: number;
  /** The job fails when it runs longer than this. */
  readonly timeoutMs: number;
  /** The job fails when more than this fraction of its rows are rejected. */
  readonly maxErrorRate: number;
  readonly pos: SourcePos;
}

export const INGESTION_DEFAULTS = {
  parallelism: 'auto',
  retries: 3,
  timeoutMs: 3_600_000,
  maxErrorRate: 0.01,
} as const;
