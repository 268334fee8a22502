import { InvalidArgumentError } from 'commander';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`"${value}" is not a port number (0-65535).`);
  }
  return port;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive integer.`);
  return n;
}

export function parseRedisUrl(value: string): string {
  let protocol = '';
  try {
    protocol = new URL(value).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new InvalidArgumentError(`"${value}" is not a redis:// or rediss:// URL.`);
  }
  return value;
}

/** `--registry-poll 30s`: a duration with its unit (ms, s, m, h). */
export function parsePollInterval(value: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(value.trim());
  const ms =
    match === null ? NaN : Number(match[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms'];
  if (!Number.isSafeInteger(ms) || ms < 100)
    throw new InvalidArgumentError(
      `"${value}" is not a poll interval of at least 100ms (write 30s, 5m, 500ms).`,
    );
  return ms;
}

export const REGISTRY_HELP =
  'registry: a directory of YAML files, or git+<url>#<branch>:<subdir> (docs/registry.md)';
export const REGISTRY_POLL_HELP = 'how often a git+ registry is fetched (e.g. 30s, 5m)';
