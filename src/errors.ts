/**
 * The error catalog. Every error Larder raises on purpose has a stable `LARDER_ERR_*` code, an HTTP
 * status and a "how to fix" line. `docs/errors.md` lists the same table; a test keeps them in sync.
 *
 * Add codes freely; never rename or reuse one: clients match on them.
 */
export const ERROR_CATALOG = {
  // --- spec / registry ---
  LARDER_ERR_SPEC_YAML: { status: 400, hint: 'Fix the YAML syntax at the given position.' },
  LARDER_ERR_SPEC_TYPE: {
    status: 400,
    hint: 'The node has the wrong YAML type (for example a list where a map is expected).',
  },
  LARDER_ERR_SPEC_UNKNOWN_KEY: {
    status: 400,
    hint: 'Remove the key or fix its spelling; see docs/spec.md for the allowed keys.',
  },
  LARDER_ERR_SPEC_MISSING_KEY: { status: 400, hint: 'Add the required key.' },
  LARDER_ERR_SPEC_INVALID_VALUE: {
    status: 400,
    hint: 'Use one of the allowed values listed in the message.',
  },
  LARDER_ERR_SPEC_FIELD_TYPE: {
    status: 400,
    hint: 'Use int, float, string, bool, json, list<T> of one of them, or vector(N).',
  },
  LARDER_ERR_SPEC_VECTOR: {
    status: 400,
    hint: 'Write vector(N) with N a whole number from 1 to 4096: the length of every value of the field.',
  },
  LARDER_ERR_SPEC_OPTYPE: {
    status: 400,
    hint: 'Use one of equal, not_equal, contain, not_contain, in, not_in, gt, gte, lt, lte, exists, not_exists.',
  },
  LARDER_ERR_SPEC_FILTER_VALUES: {
    status: 400,
    hint: 'Give the number of values the optype needs (exists/not_exists take none; comparisons take one).',
  },
  LARDER_ERR_SPEC_DURATION: {
    status: 400,
    hint: 'Write a duration like 500ms, 30s, 10m, 12h or 30d.',
  },
  LARDER_ERR_SPEC_NAME: {
    status: 400,
    hint: 'Names must match /^[A-Za-z_][A-Za-z0-9_]*$/ so they can be GraphQL fields.',
  },
  LARDER_ERR_SPEC_DUPLICATE: {
    status: 400,
    hint: 'The same name is declared twice in the registry; keep one.',
  },
  LARDER_ERR_SPEC_FIELD_CONFLICT: {
    status: 400,
    hint: 'Events of one feature that produce the same field must give it the same type.',
  },
  LARDER_ERR_SPEC_RESERVED: {
    status: 400,
    hint: 'The name is reserved by Larder (timestamp, id); rename the field.',
  },
  LARDER_ERR_SPEC_REFERENCE: {
    status: 400,
    hint: 'The spec refers to something that is not declared (entity, stream, feature or ingestion).',
  },
  LARDER_ERR_SPEC_CONTAINER: {
    status: 400,
    hint: 'containerType applies to static features; map needs mapKey naming one of its fields.',
  },
  LARDER_ERR_SPEC_EMPTY: {
    status: 400,
    hint: 'The registry directory holds no YAML files or no features.',
  },
  LARDER_ERR_SPEC_CYCLE: { status: 400, hint: 'Break the dependency cycle named in the message.' },
  LARDER_ERR_SPEC_INVALID: {
    status: 400,
    hint: 'The registry has errors; each is listed with its file:line:column.',
  },
  LARDER_ERR_SPEC_ENV: {
    status: 400,
    hint: 'Set the environment variable named in the message, or give a default: ${VAR:-default}.',
  },
  LARDER_ERR_SPEC_ROOT_CONFLICT: {
    status: 400,
    hint: 'Entity names and plurals are GraphQL root fields and prefixes partition the store; make them distinct.',
  },
  LARDER_ERR_SPEC_READ: {
    status: 400,
    hint: 'The registry directory or one of its files could not be read; check that it exists and is readable.',
  },
  LARDER_ERR_REGISTRY_SOURCE: {
    status: 400,
    hint: 'Give --registry a directory or git+<url>#<branch>:<subdir> (for example git+file:///srv/features.git#main:registry); see docs/registry.md.',
  },
  LARDER_ERR_REGISTRY_GIT: {
    status: 502,
    hint: "The git command failed or timed out: check the URL, the branch, the network and the credentials (LARDER_REGISTRY_GIT_TOKEN or git's own credential setup).",
  },
  LARDER_ERR_REGISTRY_BREAKING: {
    status: 409,
    hint: 'The change would break stored data or persisted queries. Review `larder plan`, then apply with --allow-breaking or list the changes under allowBreaking in the registry.',
  },
  LARDER_ERR_REGISTRY_VERSION: {
    status: 404,
    hint: 'Name an applied version by its number or a hash prefix of at least 7 characters; `larder registry history` lists them.',
  },
  LARDER_ERR_SPEC_DEPRECATED: {
    status: 400,
    hint: 'A warning: the old spelling still works; write the one the message names instead.',
  },
  LARDER_ERR_SPEC_TOO_LARGE: {
    status: 400,
    hint: 'A registry file is over 1 MiB, or all of them over 4 MiB; split the file, or move what is not a registry file out of the directory.',
  },
  LARDER_ERR_SPEC_ALIAS: {
    status: 400,
    hint: 'YAML aliases (*name) expand to more than 10,000 nodes in one file; write the repeated blocks out, or alias smaller ones.',
  },
  LARDER_ERR_SPEC_TOO_DEEP: {
    status: 400,
    hint: 'Maps and lists nest more than 64 levels deep; no registry block needs that many, so the file is probably malformed.',
  },
  // --- ingestion ---
  LARDER_ERR_EVENT_PARSE: { status: 400, hint: 'Send valid JSON (one object, an array, or NDJSON).' },
  LARDER_ERR_EVENT_NOT_OBJECT: { status: 400, hint: 'Each event must be a JSON object.' },
  LARDER_ERR_EVENT_ENTITY_ID: {
    status: 400,
    hint: "The event lacks the entity id at the stream's entityIdField, it has the wrong type, or it cannot be a key (over 1024 bytes, a NUL, a lone surrogate).",
  },
  LARDER_ERR_EVENT_TYPE: {
    status: 400,
    hint: 'A field could not be coerced to its declared type; fix the producer or the spec.',
  },
  LARDER_ERR_EVENT_VECTOR: {
    status: 400,
    hint: 'A vector(N) field takes an array of exactly N finite numbers within the float32 range; fix the producer (or the dimension in the spec).',
  },
  LARDER_ERR_EVENT_MISSING_FIELD: {
    status: 400,
    hint: 'The event lacks a field the feature needs.',
  },
  LARDER_ERR_EVENT_TIMESTAMP: {
    status: 400,
    hint: 'The timestamp field must be epoch milliseconds or an ISO-8601 string, within the years 0000 to 9999.',
  },
  LARDER_ERR_EVENT_TOO_LARGE: { status: 413, hint: 'Split the request into smaller batches.' },
  LARDER_ERR_EVENT_ID: {
    status: 400,
    hint: "The event id at the stream's eventIdField must be at most 512 UTF-8 bytes, without NUL characters or lone surrogates.",
  },
  LARDER_ERR_EVENT_TOO_DEEP: {
    status: 400,
    hint: 'Events may nest objects and arrays at most 64 levels deep; flatten the event.',
  },
  LARDER_ERR_LIMIT_EVENTS: {
    status: 413,
    hint: 'The push request holds more events than the server takes at once (serve.limits.maxEventsPerPush, LARDER_MAX_PUSH_EVENTS); split it into smaller batches.',
  },
  LARDER_ERR_UNKNOWN_STREAM: {
    status: 404,
    hint: 'The stream is not declared in the registry and no feature reads it.',
  },
  // --- serving ---
  LARDER_ERR_COUNT_TOO_LARGE: {
    status: 400,
    hint: "Ask for at most the feature's maxCount rows.",
  },
  LARDER_ERR_BAD_ARGUMENT: { status: 400, hint: 'Fix the argument named in the message.' },
  LARDER_ERR_UNKNOWN_ENTITY: { status: 404, hint: 'Query an entity that the registry declares.' },
  LARDER_ERR_UNKNOWN_FEATURE: { status: 404, hint: 'Query a feature that the registry declares.' },
  LARDER_ERR_RANK_BY: {
    status: 400,
    hint: 'rankBy compares vector features of the same dimension: similarityTo names a static vector(N) feature of its entity, and the candidates have a vector(N) feature too (name it with rankBy.feature when they have several).',
  },
  LARDER_ERR_QUERY_INVALID: {
    status: 400,
    hint: 'The GraphQL query does not parse or does not match the schema, which follows the registry; check field and argument names.',
  },
  LARDER_ERR_SPEC_GRAPHQL_NAME: {
    status: 400,
    hint: 'Two registry names map to the same GraphQL name (for example user_x and userX, or an entity and another entity plural); rename one.',
  },
  LARDER_ERR_BAD_REQUEST: {
    status: 400,
    hint: 'The request is malformed (body, content type or parameters); fix what the message names.',
  },
  LARDER_ERR_NOT_FOUND: {
    status: 404,
    hint: 'No such endpoint; see the README for the routes Larder serves.',
  },
  LARDER_ERR_REQUEST_TOO_LARGE: {
    status: 413,
    hint: 'Send a smaller request body, or raise the body limit.',
  },
  LARDER_ERR_HEADERS_TOO_LARGE: {
    status: 431,
    hint: "Send fewer or shorter headers (Node's limit is 16 KiB in all).",
  },
  LARDER_ERR_REQUEST_TIMEOUT: {
    status: 408,
    hint: 'The request (headers and body) took too long to arrive; send it again, faster.',
  },
  // --- serving limits, auth, persisted queries (issue 6) ---
  LARDER_ERR_LIMIT_DEPTH: {
    status: 400,
    hint: 'The query nests deeper than the server allows (LARDER_MAX_DEPTH); flatten it or split it into several queries.',
  },
  LARDER_ERR_LIMIT_FIELDS: {
    status: 400,
    hint: 'The query selects more fields than the server allows once its fragments are spread (LARDER_MAX_FIELDS), or spreads fragments more often (LARDER_MAX_FRAGMENT_SPREADS); drop repeated fields, aliases and spreads, or split the query.',
  },
  LARDER_ERR_LIMIT_IDS: {
    status: 400,
    hint: 'A batch query asks for more ids than the server allows (LARDER_MAX_IDS, default 1000); split the ids over several requests.',
  },
  LARDER_ERR_LIMIT_ROWS: {
    status: 400,
    hint: 'The request could return more action rows than the server allows (LARDER_MAX_ROWS); lower count, or ask for fewer ids or features.',
  },
  LARDER_ERR_LIMIT_QUERY_SIZE: {
    status: 413,
    hint: 'The query text is longer than the server allows (LARDER_MAX_QUERY_BYTES, or LARDER_MAX_QUERY_TOKENS tokens); shorten it or split it into several queries.',
  },
  LARDER_ERR_UNAUTHORIZED: {
    status: 401,
    hint: 'Send an API key as "Authorization: Bearer <key>" or "x-api-key: <key>" (see docs/serving.md#authentication).',
  },
  LARDER_ERR_FORBIDDEN: {
    status: 403,
    hint: 'The key is valid but lacks the access this endpoint needs (`needed`: ingest or admin); see the route table in docs/serving.md#routes.',
  },
  LARDER_ERR_PERSISTED_QUERY_NOT_FOUND: {
    status: 404,
    hint: 'The server does not know this query hash; register the query (POST /v1/queries) or send the full text once with the hash.',
  },
  LARDER_ERR_PERSISTED_QUERY_QUOTA: {
    status: 429,
    hint: 'The store keeps as many persisted queries as it may (serve.limits.maxPersistedQueries and maxPersistedQueryBytes); this clears only when the limit is raised. Send the query text itself meanwhile.',
  },
  LARDER_ERR_INTROSPECTION_OFF: {
    status: 400,
    hint: 'This server answers no introspection (__schema, __type): serve.introspection is off (LARDER_GRAPHQL_INTROSPECTION). Use the schema from your registry (larder validate prints it) instead.',
  },
  LARDER_ERR_PERSISTED_QUERY_MISMATCH: {
    status: 400,
    hint: 'The sha256 hash sent does not match the query text sent with it; hash the exact query string.',
  },
  // --- batch ingestion ---
  LARDER_ERR_SPEC_CRON: {
    status: 400,
    hint: 'Write a cron expression with 5 fields (minute hour day month weekday) or 6 (seconds first), e.g. "0 3 * * *".',
  },
  LARDER_ERR_BATCH_UNKNOWN_INGESTION: {
    status: 404,
    hint: 'Name an ingestion declared under `ingestions:` in the registry; `larder jobs list` shows past runs.',
  },
  LARDER_ERR_BATCH_SOURCE: {
    status: 400,
    hint: 'Check source.path: the files must exist and be readable (for s3://, the bucket, endpoint and credentials).',
  },
  LARDER_ERR_BATCH_FORMAT: {
    status: 400,
    hint: 'The file is not valid in its declared format (or uses an unsupported Parquet codec); fix the file or source.format.',
  },
  LARDER_ERR_BATCH_ROW: {
    status: 400,
    hint: 'The row could not be read as a record (bad JSON line, CSV row with the wrong number of columns); fix the row.',
  },
  LARDER_ERR_BATCH_ERROR_RATE: {
    status: 422,
    hint: "More rows were rejected than the ingestion's maxErrorRate allows; see the job's error sample, fix the data or the mapping, then retry.",
  },
  LARDER_ERR_BATCH_TIMEOUT: {
    status: 504,
    hint: "The job ran longer than the ingestion's timeout; raise `timeout`, add workers, or check why it is slow.",
  },
  LARDER_ERR_BATCH_CANCELLED: {
    status: 409,
    hint: 'The job was cancelled; `larder jobs retry <id>` runs it again.',
  },
  LARDER_ERR_BATCH_WORKER_LOST: {
    status: 500,
    hint: 'The process running the job was killed or crashed; `larder jobs retry <id>` runs its unfinished tasks (finished ones are kept).',
  },
  LARDER_ERR_BATCH_TASK_FAILED: {
    status: 500,
    hint: "A task failed on every attempt; the job's log names the task and the error.",
  },
  LARDER_ERR_BATCH_UPSTREAM: {
    status: 424,
    hint: 'An ingestion this one depends on did not succeed in the same run; fix and retry that one first.',
  },
  LARDER_ERR_BATCH_JOB_NOT_FOUND: {
    status: 404,
    hint: 'No job has that id; `larder jobs list` shows the known jobs.',
  },
  LARDER_ERR_BATCH_JOB_STATE: {
    status: 409,
    hint: 'The job is not in a state that allows this action (only finished jobs can be retried, only unfinished ones cancelled).',
  },
  // --- store / runtime ---
  LARDER_ERR_STORE_UNAVAILABLE: {
    status: 503,
    hint: 'The online store could not be reached; check its path or endpoint.',
  },
  LARDER_ERR_STORE_CLOSED: {
    status: 503,
    hint: 'The store is not open (never opened, or already closed); open it before use.',
  },
  LARDER_ERR_STORE_FORMAT: {
    status: 500,
    hint: 'The data directory was written by an incompatible Larder version; use a new --data directory or migrate it.',
  },
  LARDER_ERR_STORE_WRITE_INVALID: {
    status: 500,
    hint: 'A store write had an invalid key, timestamp, bound or mutation for its container; the message names it (a bug in the caller).',
  },
  LARDER_ERR_STORE_WRITE_FAILED: {
    status: 503,
    hint: 'The store could not write (the message names why: a full disk, an I/O error); reads go on. Free space, then retry: writes are idempotent.',
  },
  LARDER_ERR_STORE_NOT_INITIALIZED: {
    status: 503,
    hint: 'The DynamoDB table does not exist; create it with `larder store init --config <file>`.',
  },
  LARDER_ERR_STORE_CONFLICT: {
    status: 503,
    hint: 'A set/map value changed under too many concurrent writers in a row; the write can be retried.',
  },
  LARDER_ERR_CONFIG: { status: 400, hint: 'Fix the configuration value named in the message.' },
  LARDER_ERR_CONFIG_YAML: {
    status: 400,
    hint: 'The config file is not valid YAML; fix the syntax at the given position.',
  },
  LARDER_ERR_CONFIG_UNKNOWN_KEY: {
    status: 400,
    hint: 'Remove the key or fix its spelling; docs/configuration.md lists every key of the config file.',
  },
  LARDER_ERR_CONFIG_VALUE: {
    status: 400,
    hint: 'Give the key a value of the kind the message names; docs/configuration.md lists them.',
  },
  LARDER_ERR_NOT_READY: { status: 503, hint: 'The server is still starting; retry shortly.' },
  // --- stream consumers (broker adapters) ---
  LARDER_ERR_STREAM_OPTION: {
    status: 400,
    hint: 'Fix the value under streams.<name>.options (or .connection) named in the message; docs/streams.md lists them.',
  },
  LARDER_ERR_STREAM_CONNECTION: {
    status: 503,
    hint: 'The broker named in streams.<name>.connection could not be reached or lacks the topic; check it.',
  },
  LARDER_ERR_STREAM_AUTH: {
    status: 503,
    hint: 'The broker refused the credentials of the stream, or its TLS handshake failed; check streams.<name>.connection (tls, sasl) and the environment variables it names.',
  },
  LARDER_ERR_STREAM_UNSUPPORTED: {
    status: 400,
    hint: 'The broker or operation is not supported by this adapter; see docs/streams.md.',
  },
  LARDER_ERR_RETRIES_EXHAUSTED: {
    status: 500,
    hint: 'The message failed transiently maxAttempts times and was dead-lettered; fix the cause, then replay it.',
  },
  LARDER_ERR_DLQ_NOT_FOUND: {
    status: 404,
    hint: 'No broker dead letter has that id; list them with `larder dlq list --broker`.',
  },
  // --- enrichment workers ---
  LARDER_ERR_ENRICH_UNKNOWN_ENRICHER: {
    status: 404,
    hint: 'The registry declares no enricher of that name; `enrichers:` in the registry lists them.',
  },
  LARDER_ERR_ENRICH_NOT_FOUND: {
    status: 404,
    hint: 'No invocation of this enricher has that id (or it finished longer ago than enrich.retention).',
  },
  LARDER_ERR_ENRICH_INPUT: {
    status: 400,
    hint: "The invocation body must be one JSON object: the handler's input.",
  },
  LARDER_ERR_ENRICH_HANDLER: {
    status: 500,
    hint: "The handler threw, answered an error or a non-2xx status; the invocation's error says which. It is retried, then dead-lettered.",
  },
  LARDER_ERR_ENRICH_TIMEOUT: {
    status: 504,
    hint: "The handler did not answer within the enricher's timeout; raise `timeout` or make the handler faster.",
  },
  LARDER_ERR_ENRICH_CRASHED: {
    status: 500,
    hint: "The handler's process or thread died during the call; it is restarted and the call retried.",
  },
  LARDER_ERR_ENRICH_BREAKER_OPEN: {
    status: 503,
    hint: "The http handler failed too often in a row, so calls are held back until the breaker's reset time has passed.",
  },
  LARDER_ERR_ENRICH_QUEUE: {
    status: 503,
    hint: 'The invocation queue (LMDB, or BullMQ on Redis) could not be reached; check enrich.mode and enrich.redis.',
  },
  LARDER_ERR_ENRICH_DESTINATION: {
    status: 503,
    hint: 'The onSuccess or onFailure event could not be published; check the destination stream. The invocation is retried.',
  },
  // --- web console and admin API (issue 18) ---
  LARDER_ERR_ADMIN_UNAVAILABLE: {
    status: 404,
    hint: 'This server does not run that part (batch jobs need a job store, stream charts the runtime); start it with `larder serve` or `larder demo`.',
  },
  LARDER_ERR_DEAD_LETTER_NOT_FOUND: {
    status: 404,
    hint: 'No dead letter in the local table has that id (a replay removes it); list them with `larder dlq list` or the console.',
  },
  LARDER_ERR_INTERNAL: {
    status: 500,
    hint: 'An unexpected failure; the server log holds the details under the request id.',
  },
} as const satisfies Record<string, { status: number; hint: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Base class of every deliberate Larder error: a stable code, an HTTP status and a hint. */
export class LarderError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly hint: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LarderError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.hint = ERROR_CATALOG[code].hint;
    this.details = options?.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, ...this.details };
  }
}

export function isLarderError(err: unknown): err is LarderError {
  return err instanceof LarderError;
}
