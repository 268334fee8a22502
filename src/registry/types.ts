/**
 * The compiled registry: what the rest of Larder sees after a registry directory has been loaded,
 * validated and given its defaults. Everything here is plain, frozen data.
 */

export type ScalarType = 'int' | 'float' | 'string' | 'bool' | 'json';

/**
 * A field type: a scalar, `list<scalar>`, or `vector(N)`. Written in YAML as `int`, `list<int>`,
 * `vector(384)`. A vector is a list of floats with a fixed length `vector`, stored as float32
 * (`{scalar: 'float', list: true, vector: N}`), so code that knows only lists treats it as one.
 */
export interface FieldType {
  readonly scalar: ScalarType;
  readonly list: boolean;
  /** `vector(N)`: the dimension N. Undefined for every other type. */
  readonly vector?: number | undefined;
}

export type Optype =
  | 'equal'
  | 'not_equal'
  | 'contain'
  | 'not_contain'
  | 'in'
  | 'not_in'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'exists'
  | 'not_exists';

/** Where a spec node came from, for error messages and the catalog. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface EntityDef {
  readonly name: string;
  /** Key prefix, for example `u:`. Default `<name>:`. */
  readonly prefix: string;
  readonly idType: 'int' | 'string';
  /** Dotted path of the entity id in events. Default `<name>_id`. */
  readonly idField: string;
  /** Name of the batch root field in GraphQL. Default `<name>s`. */
  readonly plural: string;
  /** True when the registry declared it; false when it was implied by `features.<entity>`. */
  readonly declared: boolean;
}

export type StreamSourceKind = 'http' | 'redis' | 'nats' | 'kinesis' | 'kafka';

export interface StreamDef {
  readonly name: string;
  readonly source: StreamSourceKind;
  /** Broker connection options, after `${ENV}` substitution (url / servers / brokers / endpoint+region). */
  readonly connection: Readonly<Record<string, unknown>>;
  /** Consumer group or durable name. Default `larder`. */
  readonly group: string;
  /** Redis Streams: the entry field holding the JSON event. Default `data`. */
  readonly payloadField: string;
  /** Dotted path of the sub-topic in the event. Default `subTopic`. */
  readonly subTopicField: string;
  /** Dotted path of the entity id; overrides the entity's idField for this stream. */
  readonly entityIdField: string | undefined;
  /** Dotted path of the event time (epoch ms or ISO-8601). Without it, arrival time is used. */
  readonly timestampField: string | undefined;
  /** Dotted path of the event id used for idempotency. Without it, a hash of the event bytes. */
  readonly eventIdField: string | undefined;
  /** Any further adapter options (retry tiers, maxAttempts, ...), passed through untouched. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly declared: boolean;
}

export interface FilterDef {
  /** Dotted path into the event. */
  readonly name: string;
  readonly type: FieldType;
  readonly optype: Optype;
  /** Already coerced to `type`. */
  readonly values: readonly unknown[];
}

export interface FieldDef {
  /** Dotted path into the event. */
  readonly path: string;
  /** Output name: `rename`, or the last segment of the path. */
  readonly name: string;
  readonly type: FieldType;
  /** When false, a missing value is stored as null instead of rejecting the event. Default true. */
  readonly required: boolean;
}

/** One `events[]` entry of a feature: which events feed it and how they map to values. */
export interface EventBinding {
  readonly streamName: string;
  readonly topic: string;
  /** Undefined matches events of the topic whatever their sub-topic. */
  readonly subTopic: string | undefined;
  readonly filter: readonly FilterDef[];
  readonly fields: readonly FieldDef[];
  /** Overrides the stream's entityIdField for this binding. */
  readonly entityIdField: string | undefined;
  /** For set/map features: `remove` makes this binding delete a member instead of adding one. */
  readonly op: 'add' | 'remove';
  readonly pos: SourcePos;
}

export type CacheLevelName = 'local' | 'redis';

export interface CachePolicy {
  readonly levels: readonly CacheLevelName[];
  readonly ttlMs: number;
  readonly softTtlMs: number;
  readonly jitter: number;
  readonly negativeTtlMs: number;
  readonly write: 'write-through' | 'write-around';
}

export interface JoinDef {
  /** Row field holding the referenced entity's id. */
  readonly field: string;
  readonly entity: string;
  /** Name of the joined object on the row. */
  readonly as: string;
}

/** A feature group: the unit of storage and ingestion. */
export interface FeatureDef {
  readonly entity: string;
  readonly name: string;
  readonly featureType: 'static' | 'action';
  /** Static features only; action features are always `single` here. */
  readonly containerType: 'single' | 'set' | 'map';
  /** For `map`: the output field that holds the map key. */
  readonly mapKey: string | undefined;
  readonly events: readonly EventBinding[];
  /** The union of all bindings' output fields, by output name, in first-seen order. */
  readonly fields: readonly { readonly name: string; readonly type: FieldType }[];
  readonly maxCount: number;
  /** Undefined: rows never expire. */
  readonly ttlMs: number | undefined;
  readonly description: string | undefined;
  readonly owner: string | undefined;
  readonly tags: readonly string[];
  readonly cache: CachePolicy | undefined;
  readonly joins: readonly JoinDef[];
  readonly pos: SourcePos;
}

export interface Registry {
  /** Content hash of the source files, so a reload can tell whether anything changed. */
  readonly version: string;
  readonly dir: string;
  readonly entities: ReadonlyMap<string, EntityDef>;
  readonly streams: ReadonlyMap<string, StreamDef>;
  /** All features, in declaration order. */
  readonly features: readonly FeatureDef[];
  /** `entity -> feature name -> feature`. */
  readonly featuresByEntity: ReadonlyMap<string, ReadonlyMap<string, FeatureDef>>;
  /** Raw `ingestions` and `onDemand` blocks, merged across files, as written. */
  readonly extensions: Readonly<Record<string, unknown>>;
  /** The compiled `ingestions` block (batch IngestionSpecs), by name. */
  readonly ingestions: ReadonlyMap<string, IngestionDef>;
  /** The compiled `onDemand` block. */
  readonly onDemand: readonly OnDemandDef[];
  /** The compiled `enrichers` block, by name, in declaration order. */
  readonly enrichers: ReadonlyMap<string, EnricherDef>;
  /** What validation warned about (deprecated spellings, options nothing reads); never errors. */
  readonly warnings: readonly SpecIssue[];
  /** The top-level `allowBreaking:` list: breaking changes (by id) this version may make. */
  readonly allowBreaking?: readonly string[];
}

/**
 * `onDemand.<entity>.<feature>`: a feature fetched over HTTP at request time, never stored.
 *
 * ```yaml
 * onDemand:
 *   user:
 *     blocked_users:
 *       url: "http://users.internal/blocked/{id}"   # {ids} instead of {id}: the upstream takes many ids
 *       method: GET                                  # GET (default) | POST
 *       timeout: 50ms                                # timeoutMs: 50 still works (deprecated)
 *       fallback: []
 *       type: "list<int>"
 *       maxBatch: 100                                # optional, with {ids} only
 *       breaker: {failures: 5, reset: 5s}            # optional; resetMs: 5000 still works
 * ```
 */
export interface OnDemandDef {
  readonly entity: string;
  /** The entity's id type: POST bodies send int ids as JSON numbers. */
  readonly idType: 'int' | 'string';
  readonly name: string;
  /** URL template with `{id}` (one call per id) or `{ids}` (one call for many ids, comma-joined). */
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly timeoutMs: number;
  /** Served when the upstream fails, times out, answers with the wrong type, or the breaker is open. */
  readonly fallback: unknown;
  readonly type: FieldType;
  /** Set when the URL takes `{ids}`: at most this many ids per upstream call. */
  readonly batch: { readonly maxIds: number } | undefined;
  readonly breaker: { readonly failures: number; readonly resetMs: number };
}

/**
 * `enrichers.<name>`: events (or HTTP invocations) queued for an asynchronous handler, whose
 * result is re-published as an event that features ingest (see docs/enrichment.md).
 *
 * ```yaml
 * enrichers:
 *   article_embedding:
 *     trigger: {streamName: server_event, topic: cdc_article, subTopic: created, filter: [...]}
 *     input: {article_id: after.id, text: after.title}
 *     handler: {module: ./handlers/embed.js}   # or {http: {url, timeout}} or {command: [node, p.js]}
 *     concurrency: {min: 1, max: 16}
 *     timeout: 10s
 *     retries: {max: 3, backoff: 1s, maxBackoff: 1m}
 *     onSuccess: {streamName: enriched, topic: article_embedding}
 *     onFailure: {streamName: enriched, topic: article_embedding_failed}
 * ```
 */
export interface EnricherDef {
  readonly name: string;
  /** Undefined: the enricher runs only on HTTP invocations. */
  readonly trigger: EnricherTrigger | undefined;
  /** Output name -> dotted path into the trigger event; empty: the whole event is the input. */
  readonly input: readonly { readonly name: string; readonly path: string }[];
  readonly handler: EnricherHandlerDef;
  readonly concurrency: { readonly min: number; readonly max: number };
  /** One handler call may take at most this long. */
  readonly timeoutMs: number;
  readonly retries: {
    /** Attempts after the first; 0: a failure is final. */
    readonly max: number;
    /** Delay before the first retry; doubled for each further one, up to `maxBackoffMs`. */
    readonly backoffMs: number;
    readonly maxBackoffMs: number;
  };
  readonly onSuccess: EnricherDestination;
  readonly onFailure: EnricherDestination | undefined;
  readonly pos: SourcePos;
}

/** Which events start an invocation: the same routing and filter language as a feature's events. */
export interface EnricherTrigger {
  readonly streamName: string;
  readonly topic: string;
  /** Undefined matches every event of the topic. */
  readonly subTopic: string | undefined;
  readonly filter: readonly FilterDef[];
}

/** Where an enricher's success or failure events go: a stream of the registry and a topic. */
export interface EnricherDestination {
  readonly streamName: string;
  readonly topic: string;
}

export type EnricherHandlerDef =
  /** A JS/TS module (absolute path) whose default export is `async (input, ctx) => result`. */
  | { readonly kind: 'module'; readonly path: string }
  /** A synchronous model service: `POST url` with the input as JSON, answered with the result. */
  | {
      readonly kind: 'http';
      readonly url: string;
      /** Per call; the enricher's `timeoutMs` unless `http.timeout` says otherwise. */
      readonly timeoutMs: number;
      readonly breaker: { readonly failures: number; readonly resetMs: number };
    }
  /** A long-lived process speaking NDJSON on stdin/stdout, started in `cwd` (the registry directory). */
  | { readonly kind: 'command'; readonly argv: readonly string[]; readonly cwd: string };

export type SourceFormat = 'jsonl' | 'csv' | 'parquet';

/** Where a batch ingestion reads its rows. */
export interface SourceSpec {
  readonly format: SourceFormat;
  /**
   * A local path or glob (a relative path is resolved against the registry directory), or an
   * `s3://bucket/prefix/*.ext` glob.
   */
  readonly path: string;
}

/**
 * A compiled batch IngestionSpec (`ingestions.<name>`): where the rows come from, which feature
 * they feed, how each row maps to a value (the same filter/field language as stream events), and
 * how the job is scheduled and bounded. Plain, JSON-serialisable data.
 */
export interface IngestionDef {
  readonly name: string;
  readonly source: SourceSpec;
  /** The target feature group. */
  readonly entity: string;
  readonly feature: string;
  /** Dotted path of the entity id in each row. Default: the entity's idField. */
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
  /** `auto`: sized from the data and the measured throughput; a number: that many workers. */
  readonly parallelism: 'auto' | number;
  /** How many times a failed task is retried before the job fails. Default 3. */
  readonly retries: number;
  /** The job fails when it runs longer than this. Default 1h. */
  readonly timeoutMs: number;
  /** The job fails when more than this fraction of its rows are rejected. Default 0.01. */
  readonly maxErrorRate: number;
  readonly pos: SourcePos;
}

/** One problem found while validating a registry. */
export interface SpecIssue {
  /** Errors make the registry invalid; warnings (a deprecated spelling, ...) do not. */
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
  readonly hint: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
}
