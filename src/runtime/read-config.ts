import cluster from 'node:cluster';
import type { ConfigWarning } from '../config/config-issues.ts';
import { loadConfig, type LarderConfig } from '../config/load-config.ts';

const printed = new Set<string>();

/**
 * The config every command starts from: `loadConfig` (the file, else `LARDER_CONFIG`, with the
 * environment's overrides), throwing a `ConfigError` that lists every problem. Deprecated keys
 * and variables are printed to stderr, each once per process (and not again by `serve --workers`
 * processes, whose primary printed them).
 */
export function readConfig(
  file?: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): LarderConfig {
  const config = loadConfig(file, env);
  for (const warning of config.warnings) printDeprecation(warning);
  return config;
}

/** Prints `larder: deprecated: <where>: <message>` once per process. */
export function printDeprecation(warning: ConfigWarning): void {
  const line = `larder: deprecated: ${warning.where}: ${warning.message}`;
  if (printed.has(line) || cluster.isWorker) return;
  printed.add(line);
  process.stderr.write(`${line}\n`);
}
