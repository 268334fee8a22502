/**
 * The JSON bodies of the admin API (`/v1/admin/...`), as scripts and the web console read them.
 * Types only, importing nothing: the console's front-end build (src/console/) imports this file
 * too, so both sides agree on one shape. docs/admin-api.md describes every field.
 */

/** A page of a list the server filtered and cut; `next` is the cursor of the following page. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Items matching the filters, over all pages (absent where counting would cost a full scan). */
  readonly total?: number;
  /** Pass as `after` (or `offset`) to get the next page; absent on the last page. */
  readonly next?: string;
}

/** A value and how often it occurs: the facets of a filtered list. */
export interface Facet {
  readonly value: string;
  readonly count: number;
}

/** Time series over the last hour, one value per sample; columns share the `t` axis (epoch s). */
export interface Series {
  readonly t: readonly number[];
  readonly columns: Readonly<Record<string, readonly (number | null)[]>>;
}

export interface FieldTypeText {
  readonly name: string;
  /** `int`, `list<string>`, ... as written in the spec. */
  readonly type: string;
}

export interface FeatureSummary {
  readonly entity: string;
  readonly name: string;
  readonly featureType: 'static' | 'action';
  readonly containerType: 'single' | 'set' | 'map';
  readonly fields: readonly FieldTypeText[];
  /** `stream/topic` of each event binding, distinct. */
  readonly sources: readonly string[];
  /** Batch ingestions that feed it. */
  readonly ingestions: readonly string[];
  readonly owner: string | null;
  readonly tags: readonly string[];
  readonly description: string | null;
  /** Epoch ms of the last write this process applied to it; null when none since start. */
  readonly lastEventAt: number | null;
}

export interface FeatureCatalog extends Page<FeatureSummary> {
  readonly total: number;
  /** Counts over the features that match the text query `q` (before the other filters). */
  readonly facets: {
    readonly entity: readonly Facet[];
    readonly stream: readonly Facet[];
    readonly type: readonly Facet[];
    readonly owner: readonly Facet[];
    readonly tag: readonly Facet[];
  };
}

export interface SpecLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface FeatureSource {
  readonly kind: 'stream' | 'ingestion' | 'onDemand';
  /** `stream/topic[/subTopic]`, the ingestion's name, or the upstream URL. */
  readonly name: string;
  /** Broker of a stream binding (`http`, `redis`, `kafka`, ...); the file format of an ingestion. */
  readonly via: string;
  readonly detail: string;
  readonly at: SpecLocation | null;
}

export interface FeatureDetail {
  readonly summary: FeatureSummary;
  readonly at: SpecLocation;
  /** The feature's block of its YAML file, as written; null when the file cannot be read. */
  readonly specText: string | null;
  readonly specFirstLine: number;
  /** The GraphQL field and the types it returns (SDL). */
  readonly graphqlTypes: string;
  readonly sources: readonly FeatureSource[];
  readonly maxCount: number;
  readonly ttlMs: number | null;
  /** The compiled cache policy, or null: read from the store on every request. */
  readonly cache: {
    readonly levels: readonly string[];
    readonly ttlMs: number;
    readonly softTtlMs: number;
    readonly negativeTtlMs: number;
    readonly write: string;
  } | null;
  readonly joins: readonly { readonly field: string; readonly entity: string; readonly as: string }[];
  readonly freshness: { readonly lastEventAt: number | null; readonly eventsPerSec: Series };
  /** Ready to paste: a GraphQL query reading the feature for `idPlaceholder`, and the curl of it. */
  readonly query: { readonly graphql: string; readonly variables: string; readonly curl: string };
}

export interface StreamOutcomes {
  readonly written: number;
  readonly deduplicated: number | null;
  readonly filtered: number;
  readonly rejected: number;
  readonly deadLettered: number;
  readonly retried: number;
}

export interface StreamStatus {
  /** `stream/topic`. */
  readonly id: string;
  readonly stream: string;
  readonly topic: string;
  /** `http`, `redis`, `nats`, `kafka`, `kinesis`. */
  readonly source: string;
  /** Events/s over the last sample. */
  readonly eventsPerSec: number;
  /** Messages not yet consumed or acknowledged (brokers only; null for HTTP push). */
  readonly lag: number | null;
  /** Totals since the process started. */
  readonly totals: StreamOutcomes;
  /** Messages waiting in each retry tier (brokers that keep retry tiers of their own). */
  readonly retryTiers: readonly { readonly source: string; readonly depth: number | null }[];
  /**
   * Columns: `events`, `written`, `filtered`, `rejected`, `deadLettered`, `retried` (per second),
   * `lag` and `tier:<source>` (messages).
   */
  readonly series: Series;
}

export interface StreamsReport {
  readonly sampleMs: number;
  readonly now: number;
  readonly streams: readonly StreamStatus[];
}

export type JobStateName = 'queued' | 'runnable' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobProgressView {
  readonly rowsRead: number;
  readonly written: number;
  readonly filtered: number;
  readonly rejected: number;
  readonly bytesRead: number;
  readonly bytesTotal: number;
  readonly tasksTotal: number;
  readonly tasksSucceeded: number;
  readonly tasksFailed: number;
  readonly tasksRunning: number;
  readonly errorRate: number;
  readonly lastProgressAt: number;
  /** 0..1, by bytes read. */
  readonly fraction: number;
}

export interface JobSummary {
  readonly id: string;
  readonly ingestion: string;
  readonly feature: string;
  readonly state: JobStateName;
  readonly trigger: string;
  readonly attempt: number;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly durationMs: number | null;
  readonly progress: JobProgressView;
  readonly failure: { readonly code: string; readonly message: string } | null;
  /** A stuck alert was raised and the job has not moved since. */
  readonly stuck: boolean;
  /** The console path of the job. */
  readonly url: string;
}

export interface JobList extends Page<JobSummary> {
  /** Jobs per state over the whole store. */
  readonly counts: Readonly<Record<JobStateName, number>>;
  /** Unfinished jobs with a stuck alert standing. */
  readonly stuck: readonly JobSummary[];
}

export interface JobDagNode {
  readonly ingestion: string;
  /** The job of this ingestion in the same run, when there is one. */
  readonly job: { readonly id: string; readonly state: JobStateName; readonly url: string } | null;
  readonly current: boolean;
}

export interface JobDetail {
  readonly summary: JobSummary;
  readonly mode: string;
  readonly runId: string | null;
  readonly source: string;
  readonly maxErrorRate: number;
  readonly plan: string | null;
  readonly errorSamples: readonly {
    readonly position: string;
    readonly code: string;
    readonly reason: string;
    readonly row: string;
  }[];
  readonly logs: readonly { readonly at: number; readonly level: string; readonly message: string }[];
  /** The `dependsOn` graph around the job's ingestion: edges go from a dependency to its dependent. */
  readonly dag: {
    readonly nodes: readonly JobDagNode[];
    readonly edges: readonly (readonly [string, string])[];
  };
  readonly canRetry: boolean;
  readonly canCancel: boolean;
}

export interface DeadLetterSummary {
  readonly id: string;
  readonly at: number;
  readonly stream: string;
  readonly topic: string;
  readonly code: string;
  readonly feature: string | null;
  readonly reason: string;
  readonly origin: string;
  readonly attempts: number;
}

export interface DeadLetterDetail extends DeadLetterSummary {
  readonly body: unknown;
  readonly raw: string | null;
}

export interface DeadLetterList extends Page<DeadLetterSummary> {
  /** Entries in the table (all of them, unfiltered). */
  readonly inTable: number;
  /** Counts over the entries scanned; `complete` is false when the scan stopped at its bound. */
  readonly facets: {
    readonly stream: readonly Facet[];
    readonly code: readonly Facet[];
    readonly feature: readonly Facet[];
    readonly complete: boolean;
  };
}

export interface ReplayReport {
  readonly replayed: number;
  readonly accepted: number;
  readonly filtered: number;
  readonly rejected: number;
}

export interface SpecIssueView {
  readonly severity: string;
  readonly code: string;
  readonly message: string;
  readonly hint: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface RegistryStatusView {
  readonly version: string;
  readonly dir: string;
  /** Epoch ms the running version was put in force (at start, or by a reload). */
  readonly appliedAt: number | null;
  readonly counts: {
    readonly entities: number;
    readonly streams: number;
    readonly features: number;
    readonly ingestions: number;
  };
  readonly warnings: readonly SpecIssueView[];
  /** The last change the watcher refused (the running version stayed in force). */
  readonly lastRefused: { readonly at: number; readonly issues: readonly SpecIssueView[] } | null;
  /** The breaking change the source offers now and this process refuses; null when none. */
  readonly refused?: RegistryRefusalView | null;
  /** The rollout through the shared store: the applied version and what each process runs. */
  readonly rollout?: RegistryRolloutView | null;
}

/** A registry version applied to the deployment (`larder registry history`). */
export interface AppliedVersionView {
  readonly seq: number;
  readonly version: string;
  readonly commit: string | null;
  readonly source: string;
  readonly appliedAt: number;
  readonly command: string;
  readonly sourceVersion: string | null;
}

/** What one process reported about the registry it runs. */
export interface RegistryProcessView {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly role: string;
  readonly version: string;
  readonly seq: number | null;
  readonly startedAt: number;
  readonly at: number;
  readonly refused: { readonly version: string; readonly reason: string } | null;
}

export interface RegistryRefusalView {
  readonly version: string;
  readonly commit: string | null;
  readonly at: number;
  readonly reason: string;
  readonly breaking: readonly string[];
}

export interface RegistryRolloutView {
  readonly applied: AppliedVersionView | null;
  readonly self: RegistryProcessView;
  /** Every process that reported lately; `current` when it runs the applied version. */
  readonly processes: readonly (RegistryProcessView & { readonly current: boolean })[];
  /** Every process listed runs the applied version. */
  readonly converged: boolean;
}

/** What the console needs to know before it draws anything. */
export interface ConsoleInfo {
  readonly version: string;
  readonly registryVersion: string;
  readonly auth: boolean;
  /** What the caller's key may do: `read` browses, `admin` also retries, cancels and replays. */
  readonly access: 'public' | 'read' | 'ingest' | 'admin';
  /** Which parts this server can show (jobs need a batch job store; streams a history). */
  readonly jobs: boolean;
  readonly streams: boolean;
}
