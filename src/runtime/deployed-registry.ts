import path from 'node:path';
import type { Logger } from 'pino';
import type { ConfigIssue } from '../config/config-issues.ts';
import { ConfigError, type LarderConfig } from '../config/load-config.ts';
import { ERROR_CATALOG } from '../errors.ts';
import { withStreamOverrides } from '../ingest/stream/stream-overrides.ts';
import { closestMatch } from '../registry/did-you-mean.ts';
import { formatSpecIssues } from '../registry/load.ts';
import { RegistryHolder } from '../registry/registry-holder.ts';
import type { Registry } from '../registry/types.ts';
import { watchRegistry } from '../registry/watch.ts';
import { acceptOnReplace, loadAcceptedRegistry } from './accepted-registry.ts';
import { RegistryStatusLog } from './console/registry-status.ts';

export interface DeployedRegistry {
  /** The registry in force, with the config's `streams:` overrides applied to every version of it. */
  readonly registry: RegistryHolder;
  /** When the version in force was applied and the last change refused (the console shows them). */
  readonly status: RegistryStatusLog;
  /** Stops watching the directory. */
  close(): void;
}

/**
 * The registry as this deployment runs it: loaded and accepted from `registryDir` (every problem
 * reported, as by `larder validate`), the config's stream overrides applied, and, unless `watch`
 * is false, reloaded on every change of the directory that passes the same acceptance. An override naming no stream of the registry
 * is a config error: it is almost always a typo, and would otherwise change nothing.
 */
export async function openDeployedRegistry(options: {
  readonly registryDir: string;
  readonly config: LarderConfig;
  readonly logger: Logger;
  readonly watch?: boolean;
}): Promise<DeployedRegistry> {
  const registryDir = path.resolve(options.registryDir);
  const files = new RegistryHolder(await checkDeployedRegistry(registryDir, options.config));
  const { logger } = options;
  logWarnings(files.current, logger);
  const registry = withStreamOverrides(files, options.config.streams);
  // On the registry as it runs (overrides applied): a change that fails it switches nothing.
  acceptOnReplace(registry);
  const status = new RegistryStatusLog();
  const watcher =
    options.watch === false
      ? undefined
      : watchRegistry(registryDir, files, {
          onApplied: (next) => {
            status.applied();
            logger.info({ version: next.version }, 'registry reloaded');
            logWarnings(next, logger);
          },
          onRejected: (rejected) => {
            status.refused(rejected);
            logger.error(
              { issues: rejected },
              `registry change rejected; the running registry stays in force:\n${formatSpecIssues(rejected)}`,
            );
          },
        });
  return { registry, status, close: () => watcher?.close() };
}

/**
 * The registry in `registryDir`, accepted, and checked against the config's stream overrides:
 * what `openDeployedRegistry` refuses, without opening anything. Throws `SpecValidationError` or
 * `ConfigError`.
 */
export async function checkDeployedRegistry(registryDir: string, config: LarderConfig): Promise<Registry> {
  const registry = await loadAcceptedRegistry(path.resolve(registryDir));
  const issues = streamOverrideIssues(config, registry);
  if (issues.length > 0) throw new ConfigError(config.file, issues);
  return registry;
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
