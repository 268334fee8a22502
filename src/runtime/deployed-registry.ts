import path from 'node:path';
import type { Logger } from 'pino';
import type { ConfigIssue } from '../config/config-issues.ts';
import { ConfigError, type LarderConfig } from '../config/load-config.ts';
import { ERROR_CATALOG, isLarderError } from '../errors.ts';
import { withStreamOverrides } from '../ingest/stream/stream-overrides.ts';
import { closestMatch } from '../registry/did-you-mean.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { IssueCollector } from '../registry/issue-collector.ts';
import { formatSpecIssues, SpecValidationError } from '../registry/load.ts';
import { RegistryHolder } from '../registry/registry-holder.ts';
import { parseRegistrySource } from '../registry/registry-source.ts';
import type { Registry, SpecIssue } from '../registry/types.ts';
import { acceptOnReplace } from './accepted-registry.ts';
import { RegistryStatusLog } from './console/registry-status.ts';
import type { PersistedQueryText } from './registry/registry-plan.ts';
import { RegistryRollout } from './registry/registry-rollout.ts';
import {
  loadRecordedRegistry,
  openRegistrySource,
  type OpenedRegistrySource,
} from './registry/registry-sources.ts';
import type { AppliedVersion, RegistryVersionStore } from './registry/version-store.ts';

export interface DeployedRegistry {
  /** The registry in force, with the config's `streams:` overrides applied to every version of it. */
  readonly registry: RegistryHolder;
  /** When the version in force was applied and the last change refused (the console shows them). */
  readonly status: RegistryStatusLog;
  /** The rollout through the shared store, in long-running processes given one. */
  readonly rollout: RegistryRollout | undefined;
  /** Pulls the source now (`POST /v1/admin/registry/refresh`); resolves once it is offered and followed. */
  refresh(): Promise<{ readonly version: string; readonly commit: string | null }>;
  /** Stops watching the source, reports this process gone, removes fetched checkouts. */
  close(): Promise<void>;
}

export interface DeployedRegistryOptions {
  /** The `--registry` value: a directory or `git+<url>#<branch>:<subdir>`. */
  readonly registryDir: string;
  readonly config: LarderConfig;
  readonly logger: Logger;
  readonly watch?: boolean;
  /**
   * The registry versions of the store this process shares with others: versions are proposed to
   * it, followed from it and confirmed in it (docs/registry.md). Without it, the source alone.
   */
  readonly versions?: RegistryVersionStore;
  /** The store's persisted queries, for the plan's checks. Default: none. */
  readonly persistedQueries?: () => Promise<readonly PersistedQueryText[]>;
  /** What this process is, in the rollout's process list. Default `serve`. */
  readonly role?: string;
  /** `--registry-poll`: how often a Git source is fetched. Default 30 s. */
  readonly pollMs?: number;
}

/** `--registry-poll`'s default. */
export const DEFAULT_REGISTRY_POLL_MS = 30_000;

/**
 * The registry as this deployment runs it: loaded and accepted from its source (every problem
 * reported, as by `larder validate`), the config's stream overrides applied, and, unless `watch`
 * is false, following its source. With `versions`, the rollout protocol of docs/registry.md: the
 * source's versions are planned and published to the shared store, and the process runs the
 * store's applied version. An override naming no stream of the registry is a config error: it is
 * almost always a typo, and would otherwise change nothing.
 */
export async function openDeployedRegistry(options: DeployedRegistryOptions): Promise<DeployedRegistry> {
  const source = await openRegistrySource(
    parseRegistrySource(options.registryDir),
    options.config.registry?.git,
  );
  // Where recorded versions are written out to be compiled; removed on close.
  const workDir = await mkdtemp(path.join(tmpdir(), 'larder-registry-'));
  try {
    return await deploy(source, workDir, options);
  } catch (err) {
    await source.close();
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
}

async function deploy(
  source: OpenedRegistrySource,
  workDir: string,
  options: DeployedRegistryOptions,
): Promise<DeployedRegistry> {
  const { logger, versions } = options;
  const head = await source.head();
  checkStreamOverrides(options.config, head.registry);
  // A store that does not answer yet (DynamoDB unreachable) does not stop the start: the process
  // runs its source's head, and follows the store once it answers.
  const applied =
    versions === undefined || options.watch === false
      ? undefined
      : await versions.current().catch((err: unknown) => {
          logger.warn({ err }, 'the registry versions of the store cannot be read; starting on the source');
          return undefined;
        });
  // A process starts on the applied version: the source's head is then proposed like any change.
  const initial =
    applied === undefined || applied.version === head.registry.version
      ? head.registry
      : await registryOfApplied(applied, source, workDir).catch((err: unknown) => {
          // Its report will show it behind, and the rollout retries the applied version.
          logger.error(
            { err, seq: applied.seq },
            'the applied registry version does not load here; starting on the source',
          );
          return head.registry;
        });
  const files = new RegistryHolder(initial);
  logWarnings(files.current, logger);
  const registry = withStreamOverrides(files, options.config.streams);
  // On the registry as it runs (overrides applied): a change that fails it switches nothing.
  acceptOnReplace(registry);
  const status = new RegistryStatusLog();
  files.onChange((next) => logWarnings(next, logger));
  const rejected = (issues: readonly SpecIssue[]): void => {
    status.refused(issues);
    logger.error(
      { issues },
      `registry change rejected; the running registry stays in force:\n${formatSpecIssues(issues)}`,
    );
  };
  const cleanup = async (): Promise<void> => {
    await source.close();
    await rm(workDir, { recursive: true, force: true });
  };
  if (options.watch === false) {
    return { registry, status, rollout: undefined, refresh: () => refreshOnly(source), close: cleanup };
  }
  const pollMs = options.pollMs ?? DEFAULT_REGISTRY_POLL_MS;
  if (versions === undefined) {
    // The source alone: each valid version it offers is put in force here.
    const watcher = source.watch(head, pollMs, {
      offer: (next) => {
        if (next.registry.version === files.current.version) return;
        try {
          files.replace(next.registry);
          status.applied();
          logger.info({ version: next.registry.version, commit: next.commit }, 'registry reloaded');
        } catch (err) {
          rejected(err instanceof SpecValidationError ? err.issues : refusalIssues(err));
        }
      },
      rejected,
      failed: (err) =>
        logger.warn({ err }, 'registry source could not be read; trying again at the next poll'),
    });
    return {
      registry,
      status,
      rollout: undefined,
      refresh: () => refreshOnly(source),
      close: async () => {
        watcher.close();
        await cleanup();
      },
    };
  }
  const rollout = new RegistryRollout(
    {
      source,
      holder: files,
      versions,
      persistedQueries: options.persistedQueries ?? (async () => []),
      status,
      logger,
      role: options.role ?? 'serve',
      workDir,
    },
    applied,
  );
  await rollout.offer(head).catch((err: unknown) => {
    if (err instanceof SpecValidationError) throw err;
    logger.warn({ err }, 'the registry version could not be proposed to the store; following it meanwhile');
  });
  rollout.start();
  const watcher = source.watch(head, pollMs, {
    offer: (next) => {
      rollout.offer(next).catch((err: unknown) => {
        if (err instanceof SpecValidationError) rejected(err.issues);
        else logger.warn({ err }, 'registry version could not be proposed; trying again at the next change');
      });
    },
    rejected,
    failed: (err) => logger.warn({ err }, 'registry source could not be read; trying again at the next poll'),
  });
  return {
    registry,
    status,
    rollout,
    async refresh() {
      const next = await source.refresh();
      await rollout.offer(next);
      await rollout.follow();
      return { version: next.registry.version, commit: next.commit };
    },
    async close() {
      watcher.close();
      await rollout.close();
      await cleanup();
    },
  };
}

async function refreshOnly(
  source: OpenedRegistrySource,
): Promise<{ version: string; commit: string | null }> {
  const next = await source.refresh();
  return { version: next.registry.version, commit: next.commit };
}

/** The compiled registry of an applied version: its source's copy of the commit, else its recorded files. */
export async function registryOfApplied(
  applied: AppliedVersion,
  source: OpenedRegistrySource | undefined,
  workDir?: string,
): Promise<Registry> {
  if (applied.commit !== null && source !== undefined) {
    const atCommit = await source.atCommit(applied.commit).catch(() => undefined);
    if (atCommit?.version === applied.version) return atCommit;
  }
  return loadRecordedRegistry(applied, workDir);
}

function refusalIssues(err: unknown): SpecIssue[] {
  const issues = new IssueCollector();
  const code = isLarderError(err) ? err.code : 'LARDER_ERR_SPEC_INVALID';
  issues.add(code, err instanceof Error ? err.message : String(err), { file: '.', line: 1, column: 1 });
  return issues.sorted();
}

/**
 * The registry named by `--registry` (a directory, or the head of a Git branch), accepted, and
 * checked against the config's stream overrides: what `openDeployedRegistry` refuses, without
 * opening anything. Throws `SpecValidationError`, `ConfigError` or LARDER_ERR_REGISTRY_SOURCE or LARDER_ERR_REGISTRY_GIT.
 */
export async function checkDeployedRegistry(registryDir: string, config: LarderConfig): Promise<Registry> {
  const source = await openRegistrySource(parseRegistrySource(registryDir), config.registry?.git);
  try {
    const { registry } = await source.head();
    checkStreamOverrides(config, registry);
    return registry;
  } finally {
    await source.close();
  }
}

function checkStreamOverrides(config: LarderConfig, registry: Registry): void {
  const issues = streamOverrideIssues(config, registry);
  if (issues.length > 0) throw new ConfigError(config.file, issues);
}

/** Deprecated spellings and the like: the registry loads, but its authors should hear of them. */
function logWarnings(registry: Registry, logger: Logger): void {
  if (registry.warnings.length === 0) return;
  logger.warn(
    { warnings: registry.warnings },
    `registry warnings (it loaded):\n${formatSpecIssues(registry.warnings)}`,
  );
}

/** An issue for each `streams.<name>` of the config that names no stream of `registry`. */
export function streamOverrideIssues(config: LarderConfig, registry: Registry): ConfigIssue[] {
  const known = [...registry.streams.keys()];
  return [...config.streams.keys()]
    .filter((name) => !registry.streams.has(name))
    .map((name) => {
      const guess = closestMatch(name, known);
      return {
        code: 'LARDER_ERR_CONFIG_UNKNOWN_KEY',
        where: config.where(['streams', name], true),
        message:
          `streams.${name} names no stream of the registry` +
          `${guess === undefined ? '' : `. Did you mean "${guess}"?`} (streams: ${known.join(', ') || 'none'})`,
        hint: ERROR_CATALOG.LARDER_ERR_CONFIG_UNKNOWN_KEY.hint,
      };
    });
}
