/**
 * Every `LARDER_*` environment variable Larder reads, in one table: the config key it overrides,
 * the kind of value it takes, and what it does. A variable wins over the config file. docs/
 * configuration.md shows this table (`npm run docs:config` writes it; a test keeps it in sync), and
 * a test checks that the source reads no `LARDER_*` variable missing from it.
 */
export type EnvValueKind =
  'file' | 'string' | 'url' | 'integer' | 'size' | 'duration' | 'milliseconds' | 'boolean' | 'list' | 'level';

export interface EnvVariable {
  readonly name: string;
  /** The config keys it sets (dotted paths); empty for a variable that is not a config key. */
  readonly keys: readonly string[];
  readonly kind: EnvValueKind;
  readonly description: string;
  /** With the value `off`, this map is removed instead (a cache level turned off). */
  readonly offRemoves?: string;
  /** Keys set only when the file (or an earlier variable) configures the map above them. */
  readonly onlyIfConfigured?: readonly string[];
  /** Deprecated: still read, with a warning naming what to use instead. */
  readonly deprecated?: string;
}

/**
 * Deprecated names come before the names that replace them: when both are set, the new one wins.
 */
export const ENV_VARIABLES: readonly EnvVariable[] = [
  {
    name: 'LARDER_CONFIG',
    keys: [],
    kind: 'file',
    description: 'The config file, when a command is given no `--config`.',
  },
  { name: 'LARDER_STORE_TYPE', keys: ['store.type'], kind: 'string', description: '`lmdb` or `dynamodb`.' },
  {
    name: 'LARDER_STORE_PATH',
    keys: ['store.path'],
    kind: 'string',
    description: 'LMDB data directory (relative to the config file).',
  },
  { name: 'LARDER_STORE_TABLE', keys: ['store.table'], kind: 'string', description: 'DynamoDB table.' },
  {
    name: 'LARDER_STORE_ENDPOINT',
    keys: ['store.endpoint'],
    kind: 'url',
    description: 'DynamoDB-compatible endpoint.',
  },
  {
    name: 'LARDER_STORE_REGION',
    keys: ['store.region'],
    kind: 'string',
    description: 'DynamoDB region; `AWS_REGION` is the fallback.',
  },
  {
    name: 'LARDER_CACHE_LOCAL_MAX_BYTES',
    keys: ['cache.local.maxBytes'],
    kind: 'size',
    offRemoves: 'cache.local',
    description: 'Size of the in-process cache level; `off` turns the level off.',
  },
  {
    name: 'LARDER_CACHE_REDIS_URL',
    keys: ['cache.redis.url'],
    kind: 'url',
    offRemoves: 'cache.redis',
    deprecated: 'set cache.redis in the config file (`cache: {redis: {}}`) and the URL with LARDER_REDIS_URL',
    description: 'Turns the Redis cache level on with this URL; `off` turns it off.',
  },
  {
    name: 'LARDER_REDIS_URL',
    keys: ['cache.redis.url', 'batch.redis.url', 'enrich.redis.url'],
    onlyIfConfigured: ['cache.redis.url'],
    kind: 'url',
    description:
      'The Redis every Redis connection of the file uses: the cache level (when `cache.redis` is set), the batch queue and job store, and the enrichment queue.',
  },
  {
    name: 'LARDER_HOT_ENTITY_TTL_MS',
    keys: ['serve.hotEntityTtl'],
    kind: 'milliseconds',
    deprecated: 'use `LARDER_HOT_ENTITY_TTL` with a unit, e.g. `LARDER_HOT_ENTITY_TTL=30s`',
    description: 'Lifetime of the hot entity cache in milliseconds.',
  },
  {
    name: 'LARDER_HOT_ENTITY_TTL',
    keys: ['serve.hotEntityTtl'],
    kind: 'duration',
    description:
      'Lifetime of the in-process hot entity and row caches, e.g. `10s` (default `30s`); `0s` turns them off.',
  },
  {
    name: 'LARDER_SERVE_SEMI_SPACE_MB',
    keys: ['serve.semiSpaceMb'],
    kind: 'integer',
    description:
      "V8 young-generation semi-space of `larder serve`'s processes in MB (default `128`); `0` leaves V8's default. A `--max-semi-space-size` in `NODE_OPTIONS` wins.",
  },
  {
    name: 'LARDER_SERVE_FAST_PATH',
    keys: ['serve.fastPath'],
    kind: 'boolean',
    description: '`0` turns the compiled fast path off.',
  },
  {
    name: 'LARDER_GRAPHQL_INTROSPECTION',
    keys: ['serve.introspection'],
    kind: 'boolean',
    description: '`0` turns GraphQL schema introspection (`__schema`, `__type`) off.',
  },
  {
    name: 'LARDER_CONSOLE',
    keys: ['serve.console.enabled'],
    kind: 'boolean',
    description: '`0` turns the web console at `/console` off (the admin API stays).',
  },
  {
    name: 'LARDER_CONSOLE_SAMPLE_INTERVAL',
    keys: ['serve.console.sampleInterval'],
    kind: 'duration',
    description: 'One point of the console charts, e.g. `5s` (an hour of points is kept).',
  },
  {
    name: 'LARDER_MAX_DEPTH',
    keys: ['serve.limits.maxDepth'],
    kind: 'integer',
    description: 'Deepest field nesting of a query.',
  },
  {
    name: 'LARDER_MAX_FIELDS',
    keys: ['serve.limits.maxFields'],
    kind: 'integer',
    description: 'Most fields one operation selects, counting fragments at every place they are spread.',
  },
  {
    name: 'LARDER_MAX_FRAGMENT_SPREADS',
    keys: ['serve.limits.maxFragmentSpreads'],
    kind: 'integer',
    description: 'Most fragment spreads (`...Name`) in a query text.',
  },
  {
    name: 'LARDER_MAX_IDS',
    keys: ['serve.limits.maxIdsPerQuery'],
    kind: 'integer',
    description: 'Most ids in one batch root field or REST request.',
  },
  {
    name: 'LARDER_MAX_ROWS',
    keys: ['serve.limits.maxRowsPerRequest'],
    kind: 'integer',
    description: 'Most action rows one request can return.',
  },
  {
    name: 'LARDER_MAX_QUERY_BYTES',
    keys: ['serve.limits.maxQueryBytes'],
    kind: 'size',
    description: 'Longest query text.',
  },
  {
    name: 'LARDER_MAX_QUERY_TOKENS',
    keys: ['serve.limits.maxQueryTokens'],
    kind: 'integer',
    description: 'Most lexical tokens in a query text.',
  },
  {
    name: 'LARDER_MAX_BODY_BYTES',
    keys: ['serve.limits.maxBodyBytes'],
    kind: 'size',
    description: 'Largest request body.',
  },
  {
    name: 'LARDER_MAX_PUSH_EVENTS',
    keys: ['serve.limits.maxEventsPerPush'],
    kind: 'integer',
    description: 'Most events in one HTTP push request.',
  },
  {
    name: 'LARDER_MAX_PERSISTED_QUERIES',
    keys: ['serve.limits.maxPersistedQueries'],
    kind: 'integer',
    description: 'Most persisted queries the store keeps.',
  },
  {
    name: 'LARDER_MAX_PERSISTED_QUERY_BYTES',
    keys: ['serve.limits.maxPersistedQueryBytes'],
    kind: 'size',
    description: 'Most bytes of persisted query text the store keeps.',
  },
  {
    name: 'LARDER_AUTH',
    keys: ['serve.auth.enabled'],
    kind: 'boolean',
    description: '`on` / `off`; default: on exactly when some key is set.',
  },
  {
    name: 'LARDER_API_KEYS',
    keys: ['serve.auth.readKeys'],
    kind: 'list',
    description: 'Comma-separated read keys (GraphQL, REST, `/metrics`).',
  },
  {
    name: 'LARDER_INGEST_KEYS',
    keys: ['serve.auth.ingestKeys'],
    kind: 'list',
    description: 'Comma-separated keys that may also push events.',
  },
  {
    name: 'LARDER_ADMIN_KEYS',
    keys: ['serve.auth.adminKeys'],
    kind: 'list',
    description: 'Comma-separated admin keys (everything).',
  },
  {
    name: 'LARDER_METRICS_PUBLIC',
    keys: ['serve.auth.publicMetrics'],
    kind: 'boolean',
    description: '`1`: serve `/metrics` without a key.',
  },
  {
    name: 'LARDER_BATCH_WEBHOOK',
    keys: ['batch.webhook'],
    kind: 'url',
    description: 'POSTed stuck and failed batch jobs.',
  },
  {
    name: 'LARDER_CONSOLE_URL',
    keys: ['batch.consoleUrl'],
    kind: 'url',
    description: 'Base of batch job URLs.',
  },
  {
    name: 'LARDER_REGISTRY_GIT_TOKEN',
    keys: ['registry.git.token'],
    kind: 'string',
    description: 'Bearer token for fetching a `git+https` registry.',
  },
  {
    name: 'LARDER_REGISTRY_GIT_USERNAME',
    keys: ['registry.git.username'],
    kind: 'string',
    description: 'HTTP basic user for fetching a `git+https` registry.',
  },
  {
    name: 'LARDER_REGISTRY_GIT_PASSWORD',
    keys: ['registry.git.password'],
    kind: 'string',
    description: 'HTTP basic password for fetching a `git+https` registry.',
  },
  {
    name: 'LARDER_API_KEY',
    keys: [],
    kind: 'string',
    description: 'The read key `larder plan --against <url>` sends when no `--api-key` is given.',
  },
  {
    name: 'LARDER_LOG_LEVEL',
    keys: [],
    kind: 'level',
    description: 'Log level: `trace` … `fatal`, `silent` (default `info`; one-shot commands `warn`).',
  },
  {
    name: 'LARDER_CONSUMER_NAME',
    keys: [],
    kind: 'string',
    description:
      'Redis Streams consumer name when `streams.<name>.options.consumerName` is not set (default `larder-<hostname>`).',
  },
];
