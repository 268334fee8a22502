import type { ConfigWarning } from './config-issues.ts';
import { ENV_VARIABLES, type EnvVariable } from './env-variables.ts';

type Env = Readonly<Record<string, string | undefined>>;
type Data = Record<string, unknown>;

export interface AppliedEnvironment {
  /** Which variable set each dotted key path. */
  readonly setBy: ReadonlyMap<string, string>;
  readonly warnings: readonly ConfigWarning[];
}

/**
 * Writes the environment's overrides into the file's data (in place), each at its key from the
 * table in env-variables.ts. Values are turned into the kind the schema reads (`"10"` into 10,
 * `"a,b"` into a list); a value that is not one is left as it is, so validation reports it and
 * names the variable.
 */
export function applyEnvironment(data: Data, env: Env): AppliedEnvironment {
  const setBy = new Map<string, string>();
  const warnings: ConfigWarning[] = [];
  for (const variable of ENV_VARIABLES) {
    const raw = env[variable.name]?.trim();
    if (raw === undefined || raw === '' || variable.keys.length === 0) continue;
    if (variable.deprecated !== undefined) {
      warnings.push({
        where: `$${variable.name}`,
        message: `${variable.name} is deprecated; ${variable.deprecated}`,
      });
    }
    if (variable.offRemoves !== undefined && raw.toLowerCase() === 'off') {
      const path = variable.offRemoves.split('.');
      const parent = mapAt(data, path.slice(0, -1), false);
      if (parent !== undefined) delete parent[path[path.length - 1] as string];
      setBy.set(variable.offRemoves, variable.name);
      continue;
    }
    for (const key of variable.keys) {
      const path = key.split('.');
      const create = !(variable.onlyIfConfigured ?? []).includes(key);
      const parent = mapAt(data, path.slice(0, -1), create);
      if (parent === undefined) continue;
      parent[path[path.length - 1] as string] = valueOf(variable, raw);
      setBy.set(key, variable.name);
    }
  }
  return { setBy, warnings };
}

/** The map at `path`, made when missing (or `null`) if `create`; undefined where a non-map is. */
function mapAt(data: Data, path: readonly string[], create: boolean): Data | undefined {
  let node: Data = data;
  for (const segment of path) {
    let next = node[segment];
    if (next === undefined || next === null) {
      if (!create) return undefined;
      next = node[segment] = {};
    }
    if (typeof next !== 'object' || Array.isArray(next)) return undefined;
    node = next as Data;
  }
  return node;
}

const TRUE = ['1', 'true', 'on', 'yes'];
const FALSE = ['0', 'false', 'off', 'no'];

function valueOf(variable: EnvVariable, raw: string): unknown {
  switch (variable.kind) {
    case 'integer':
      return /^\d+$/.test(raw) ? Number(raw) : raw;
    case 'size':
      return /^\d+$/.test(raw) ? Number(raw) : raw;
    case 'milliseconds':
      return /^\d+$/.test(raw) ? `${raw}ms` : raw;
    case 'boolean': {
      const lower = raw.toLowerCase();
      return TRUE.includes(lower) ? true : FALSE.includes(lower) ? false : raw;
    }
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    default:
      return raw;
  }
}
