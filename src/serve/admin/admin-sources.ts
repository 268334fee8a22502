import type {
  JobDetail,
  JobList,
  JobStateName,
  JobSummary,
  RegistryRefusalView,
  RegistryRolloutView,
  RegistryStatusView,
  ReplayReport,
  Series,
  StreamsReport,
} from './admin-types.ts';

/**
 * What the admin API reads beyond the serve context: the parts of a running Larder that live in
 * ingestion and batch, handed in by the runtime (src/runtime/console/) so the serving layer needs
 * no import of them. Every part is optional: a server without a batch job store simply has no
 * jobs page, and the API answers `LARDER_ERR_NOT_FOUND` for it.
 */
export interface AdminSources {
  readonly streams?: StreamHistory;
  readonly features?: FeatureActivity;
  readonly jobs?: JobsAdmin;
  readonly deadLetters?: DeadLetterReplay;
  readonly registry?: RegistryStatus;
}

/** Events/s, outcomes, lag and retry-tier depths per stream/topic, kept in-process for an hour. */
export interface StreamHistory {
  report(): Promise<StreamsReport>;
}

/** When each feature was last written by this process, and its writes/s over the last hour. */
export interface FeatureActivity {
  lastEventAt(entity: string, feature: string): number | null;
  eventsPerSec(entity: string, feature: string): Series;
}

export interface JobQuery {
  readonly states?: readonly JobStateName[];
  readonly ingestion?: string;
  /** Substring of the job id or its ingestion's name. */
  readonly q?: string;
  /** Cursor: jobs created before this job id (the `next` of the previous page). */
  readonly before?: string;
  readonly limit: number;
}

/** Batch jobs: the same code as `larder jobs list|show|retry|cancel`. */
export interface JobsAdmin {
  list(query: JobQuery): Promise<JobList>;
  get(id: string): Promise<JobDetail | undefined>;
  /** Runs a failed or cancelled job again (same id and URL); throws LARDER_ERR_BATCH_JOB_STATE otherwise. */
  retry(id: string): Promise<JobSummary>;
  cancel(id: string): Promise<JobSummary>;
}

/** Re-ingests dead letters: the same code as `larder dlq replay`. */
export interface DeadLetterReplay {
  replay(ids: readonly string[]): Promise<ReplayReport>;
}

/** The registry version in force, when it was applied, and the last change the watcher refused. */
export interface RegistryStatus {
  status(): Pick<RegistryStatusView, 'appliedAt' | 'lastRefused'>;
  /** The rollout through the shared store, when the process takes part in one. */
  rollout?(): Promise<RegistryRolloutView | null>;
  /** The breaking change the source offers that this process refuses, or null. */
  refusal?(): RegistryRefusalView | null;
  /**
   * The applied version with its files, and the store's persisted queries: what `larder plan
   * --against <url>` plans over. `applied` is null when nothing was applied through the store.
   */
  appliedVersion?(): Promise<{
    readonly applied: unknown;
    readonly persistedQueries: readonly { id: string; query: string }[];
  }>;
  /** Pulls the registry source now; resolves with the source's version once it was offered. */
  refresh?(): Promise<{ readonly version: string; readonly commit: string | null }>;
}
