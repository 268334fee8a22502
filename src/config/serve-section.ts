import { z } from 'zod';
import { byteSize, durationMs, flag, positiveInt, section } from './config-values.ts';

const nonNegativeInt = z
  .number({ error: 'must be a whole number, 0 or more' })
  .int({ error: 'must be a whole number, 0 or more' })
  .min(0, { error: 'must be a whole number, 0 or more' });

/**
 * `serve:`, the HTTP server of `larder serve`:
 *
 * ```yaml
 * serve:
 *   workers: 4                 # server processes sharing the port (default: CPU count; --workers wins)
 *   hotEntityTtl: 30s          # in-process hot entity and row caches (default 30s); 0s turns them off
 *   semiSpaceMb: 128           # V8 young-generation semi-space of serving processes, MB (default 128);
 *                              # 0 leaves V8's default (16); a --max-semi-space-size in NODE_OPTIONS wins
 *   fastPath: true             # answer covered queries from compiled plans (default true)
 *   introspection: true        # answer __schema/__type (default true; docs/serving.md#introspection)
 *   limits:                    # defaults shown
 *     maxDepth: 10
 *     maxFields: 500           # fields of one operation, fragments spread
 *     maxFragmentSpreads: 100
 *     maxIdsPerQuery: 1000
 *     maxRowsPerRequest: 50000
 *     maxQueryBytes: 32kb
 *     maxQueryTokens: 5000
 *     maxBodyBytes: 1mb
 *     maxEventsPerPush: 10000  # events in one HTTP push request
 *     maxPersistedQueries: 1000
 *     maxPersistedQueryBytes: 8mb
 *   auth:
 *     enabled: true            # default: on exactly when some key is set
 *     readKeys: [...]          # read features; ingestKeys also push events; adminKeys everything
 *     ingestKeys: [...]
 *     adminKeys: [...]
 *     publicMetrics: false     # serve /metrics without a key
 *   console:
 *     enabled: true            # the web console at /console (the admin API stays on)
 *     sampleInterval: 5s       # one point of the console's charts; an hour of them is kept
 * ```
 *
 * Limits and auth left out take the server's defaults (`src/serve/limits.ts`, `src/serve/auth.ts`).
 */
export interface ServeConfig {
  /** Undefined: one per CPU core. */
  readonly workers: number | undefined;
  /** 0: the hot entity and row caches are off. Default `DEFAULT_HOT_ENTITY_TTL_MS`. */
  readonly hotEntityTtlMs: number;
  /** `--max-semi-space-size` of the serving processes, MB; 0: V8's default. Default `DEFAULT_SEMI_SPACE_MB`. */
  readonly semiSpaceMb: number;
  readonly fastPath: boolean;
  readonly introspection: boolean;
  readonly limits: {
    readonly maxDepth?: number;
    readonly maxFields?: number;
    readonly maxFragmentSpreads?: number;
    readonly maxIdsPerQuery?: number;
    readonly maxRowsPerRequest?: number;
    readonly maxQueryBytes?: number;
    readonly maxQueryTokens?: number;
    readonly maxBodyBytes?: number;
    readonly maxEventsPerPush?: number;
    readonly maxPersistedQueries?: number;
    readonly maxPersistedQueryBytes?: number;
  };
  readonly auth: {
    readonly enabled?: boolean;
    readonly readKeys?: readonly string[];
    readonly ingestKeys?: readonly string[];
    readonly adminKeys?: readonly string[];
    readonly publicMetrics?: boolean;
  };
  readonly console: {
    readonly enabled: boolean;
    readonly sampleIntervalMs: number;
  };
}

/**
 * The default lifetime of the serving path's hot caches (entities and rows). Writes through the
 * process invalidate at once; this bounds how long a write by another process (another worker,
 * a batch job) can go unseen.
 */
export const DEFAULT_HOT_ENTITY_TTL_MS = 30_000;

/**
 * The young-generation semi-space of `larder serve`'s processes, MB (V8's default: 16). Larger
 * means fewer scavenges under load, each of which costs more with the hot caches' large old
 * generation (BENCHMARKS.md, "Serving (issue 15)").
 */
export const DEFAULT_SEMI_SPACE_MB = 128;

const keyList = z.array(z.string({ error: 'must be a string' }), { error: 'must be a list of keys' });

export const serveSection = section(
  z
    .object({
      workers: positiveInt.optional(),
      hotEntityTtl: durationMs.optional(),
      semiSpaceMb: nonNegativeInt.optional(),
      fastPath: flag.optional(),
      introspection: flag.optional(),
      limits: section(
        z
          .object({
            maxDepth: positiveInt.optional(),
            maxFields: positiveInt.optional(),
            maxFragmentSpreads: positiveInt.optional(),
            maxIdsPerQuery: positiveInt.optional(),
            maxRowsPerRequest: positiveInt.optional(),
            maxQueryBytes: byteSize.optional(),
            maxQueryTokens: positiveInt.optional(),
            maxBodyBytes: byteSize.optional(),
            maxEventsPerPush: positiveInt.optional(),
            maxPersistedQueries: positiveInt.optional(),
            maxPersistedQueryBytes: byteSize.optional(),
          })
          .strict(),
      ).optional(),
      auth: section(
        z
          .object({
            enabled: flag.optional(),
            readKeys: keyList.optional(),
            ingestKeys: keyList.optional(),
            adminKeys: keyList.optional(),
            publicMetrics: flag.optional(),
          })
          .strict(),
      ).optional(),
      console: section(
        z
          .object({
            enabled: flag.optional(),
            sampleInterval: durationMs.optional(),
          })
          .strict(),
      ).optional(),
    })
    .strict(),
);

export type ServeSection = z.output<typeof serveSection>;

export function serveConfigFrom(s: ServeSection = {}): ServeConfig {
  return {
    workers: s.workers,
    hotEntityTtlMs: s.hotEntityTtl ?? DEFAULT_HOT_ENTITY_TTL_MS,
    semiSpaceMb: s.semiSpaceMb ?? DEFAULT_SEMI_SPACE_MB,
    fastPath: s.fastPath ?? true,
    introspection: s.introspection ?? true,
    limits: s.limits ?? {},
    auth: s.auth ?? {},
    console: {
      enabled: s.console?.enabled ?? true,
      // At least 100 ms: an hour is kept, at most 3,600 points of it.
      sampleIntervalMs: Math.max(100, s.console?.sampleInterval ?? 5_000),
    },
  };
}
