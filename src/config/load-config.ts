import path from 'node:path';
import { LarderError } from '../errors.ts';
import { applyEnvironment } from './apply-env.ts';
import { batchConfigFromSection, type BatchConfig } from './batch-section.ts';
import { cacheConfigFrom, DEFAULT_CACHE_SECTION, type CacheConfig } from './cache-section.ts';
import {
  configIssuesFrom,
  dotted,
  formatConfigIssues,
  type ConfigIssue,
  type ConfigPath,
  type ConfigWarning,
} from './config-issues.ts';
import { configFileSchema } from './config-schema.ts';
import { enrichConfigFromSection, type EnrichConfig } from './enrich-section.ts';
import { readConfigSource } from './config-source.ts';
import { rewriteLegacyKeys } from './legacy-keys.ts';
import { registryConfigFrom, type RegistryConfig } from './registry-section.ts';
import { serveConfigFrom, type ServeConfig } from './serve-section.ts';
import { storeConfigFrom, type StoreConfig } from './store-section.ts';
import { streamOverridesFrom, type StreamOverrides } from './streams-section.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The config file, validated, with the environment's overrides and every default applied. */
export interface LarderConfig {
  /** The file it came from; undefined for the zero-config default. */
  readonly file: string | undefined;
  readonly store: StoreConfig;
  readonly cache: CacheConfig;
  readonly streams: StreamOverrides;
  readonly serve: ServeConfig;
  readonly batch: BatchConfig;
  readonly enrich: EnrichConfig;
  /** How a `git+` registry source is fetched (its credentials). Absent: none configured. */
  readonly registry?: RegistryConfig;
  /** Deprecated keys and variables in use. */
  readonly warnings: readonly ConfigWarning[];
  /** Where the value at `path` came from: `file:line:col`, or `$NAME` when a variable set it. */
  where(path: ConfigPath, key?: boolean): string;
}

export interface ConfigCheck {
  /** Undefined when there are issues. */
  readonly config: LarderConfig | undefined;
  readonly issues: readonly ConfigIssue[];
  readonly warnings: readonly ConfigWarning[];
}

/** Thrown by `loadConfig`; `issues` lists every problem, and the message shows them all. */
export class ConfigError extends LarderError {
  readonly issues: readonly ConfigIssue[];

  constructor(file: string | undefined, issues: readonly ConfigIssue[]) {
    const count = `${issues.length} problem${issues.length === 1 ? '' : 's'}`;
    super(
      'LARDER_ERR_CONFIG',
      `config ${file ?? '(environment)'} has ${count}:\n${formatConfigIssues(issues)}`,
      {
        details: { file, issues },
      },
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * Reads the config file (`file`, else `LARDER_CONFIG`; neither: the zero-config default) and the
 * environment's overrides, and validates them against the one schema. Never throws: every
 * problem comes back in `issues`, each with its place.
 */
export function checkConfig(file?: string, env: Env = process.env): ConfigCheck {
  const chosen = file ?? (env.LARDER_CONFIG?.trim() || undefined);
  const read = readConfigSource(chosen);
  if (read.issues.length > 0) return { config: undefined, issues: read.issues, warnings: [] };
  const { source } = read;
  const data = structuredClone(source.data) as Record<string, unknown>;
  const isMap = typeof data === 'object' && data !== null && !Array.isArray(data);
  const legacy = isMap ? rewriteLegacyKeys(data, source) : { warnings: [], issues: [] };
  // The zero-config cache, for a file without a cache section; before the environment, which may
  // change a level of it.
  if (isMap && !('cache' in data)) data.cache = structuredClone(DEFAULT_CACHE_SECTION);
  const applied = isMap ? applyEnvironment(data, env) : { setBy: new Map<string, string>(), warnings: [] };
  const warnings = [...legacy.warnings, ...applied.warnings];

  const variableAt = (at: ConfigPath): string | undefined => {
    let best: { length: number; name: string } | undefined;
    for (const [key, name] of applied.setBy) {
      const keyPath = key.split('.');
      const under = keyPath.length <= at.length && keyPath.every((segment, i) => segment === String(at[i]));
      if (under && keyPath.length > (best?.length ?? -1)) best = { length: keyPath.length, name };
    }
    return best?.name;
  };
  // For a map (`serve.auth`), a variable that set a key inside it is the likelier culprit.
  const variableWithin = (at: ConfigPath): string | undefined =>
    [...applied.setBy].find(([key]) => key.startsWith(`${dotted(at)}.`))?.[1];
  const where = (at: ConfigPath, key?: boolean): string => {
    const variable = variableAt(at) ?? variableWithin(at);
    return variable === undefined ? source.where(at, key) : `$${variable}`;
  };

  const parsed = configFileSchema.safeParse(data);
  if (!parsed.success) {
    const issues = configIssuesFrom(parsed.error.issues, configFileSchema, {
      where: source.where,
      variableAt,
      valueAt: (at) => valueAt(data, at),
    });
    return { config: undefined, issues: byPlace([...legacy.issues, ...issues]), warnings };
  }
  if (legacy.issues.length > 0) return { config: undefined, issues: legacy.issues, warnings };
  const s = parsed.data;
  const baseDir = chosen === undefined ? process.cwd() : path.dirname(path.resolve(chosen));
  return {
    config: {
      file: chosen,
      store: storeConfigFrom(s.store, baseDir, env),
      cache: cacheConfigFrom(s.cache ?? {}),
      streams: streamOverridesFrom(s.streams),
      serve: serveConfigFrom(s.serve),
      batch: batchConfigFromSection(s.batch),
      enrich: enrichConfigFromSection(s.enrich),
      registry: registryConfigFrom(s.registry),
      warnings,
      where,
    },
    issues: [],
    warnings,
  };
}

/** `checkConfig`, throwing a `ConfigError` that lists every problem when there is one. */
export function loadConfig(file?: string, env: Env = process.env): LarderConfig {
  const check = checkConfig(file, env);
  if (check.config === undefined) {
    throw new ConfigError(file ?? (env.LARDER_CONFIG?.trim() || undefined), check.issues);
  }
  return check.config;
}

function valueAt(data: unknown, at: ConfigPath): unknown {
  let node = data;
  for (const segment of at) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment as PropertyKey];
  }
  return node;
}

/** Issues in file order (line, then column); those from variables after them, in table order. */
function byPlace(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const key = (where: string): [number, number] => {
    const match = /:(\d+):(\d+)$/.exec(where);
    return match === null ? [Infinity, 0] : [Number(match[1]), Number(match[2])];
  };
  return [...issues].sort((a, b) => {
    const [la, ca] = key(a.where);
    const [lb, cb] = key(b.where);
    return la === lb ? ca - cb : la - lb;
  });
}
