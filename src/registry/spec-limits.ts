/**
 * Bounds on what the registry loader reads, so that a small hostile or mistaken file (a YAML alias
 * bomb, a file of brackets, a log file dropped into the directory) is refused with a clear issue
 * in bounded time and memory instead of stalling `larder validate` or a reload.
 *
 * The defaults are far above any real registry: a 1 MiB file holds about 5,000 features and takes
 * the YAML parser a few seconds.
 */
export interface SpecLimits {
  /** Largest registry file, bytes. Larger files are not read. */
  readonly maxFileBytes: number;
  /** Largest sum of all registry files, bytes. */
  readonly maxTotalBytes: number;
  /** Nodes that alias expansion (`*name`) may produce in one file, all aliases together. */
  readonly maxAliasNodes: number;
  /** Deepest nesting of maps and lists. */
  readonly maxDepth: number;
}

export const DEFAULT_SPEC_LIMITS: SpecLimits = Object.freeze({
  maxFileBytes: 1024 * 1024,
  maxTotalBytes: 4 * 1024 * 1024,
  maxAliasNodes: 10_000,
  maxDepth: 64,
});

/** The defaults with `overrides` applied. */
export function specLimits(overrides: Partial<SpecLimits> | undefined): SpecLimits {
  return overrides === undefined ? DEFAULT_SPEC_LIMITS : { ...DEFAULT_SPEC_LIMITS, ...overrides };
}
