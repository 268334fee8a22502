import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LarderError } from '../errors.ts';

/**
 * API-key authentication.
 *
 * - `read` keys (`LARDER_API_KEYS`) may read features (GraphQL, REST, metrics).
 * - `ingest` keys (`LARDER_INGEST_KEYS`) may also push events.
 * - `admin` keys (`LARDER_ADMIN_KEYS`) may do everything, including admin actions (registry reload,
 *   dead-letter replay, backfill triggers).
 *
 * Clients send `Authorization: Bearer <key>` or `x-api-key: <key>`. Keys are compared by their
 * SHA-256 digests, so the comparison time does not depend on how much of a key matched.
 */
export type Access = 'public' | 'read' | 'ingest' | 'admin';

export interface AuthConfig {
  readonly enabled: boolean;
  readonly readKeys: readonly string[];
  readonly ingestKeys: readonly string[];
  readonly adminKeys: readonly string[];
  /** Serve `/metrics` without a key (for scrapers inside a trusted network). Default false. */
  readonly publicMetrics: boolean;
}

/** Access levels in order: each grants everything the ones before it do. */
export const RANK: Readonly<Record<Access, number>> = { public: 0, read: 1, ingest: 2, admin: 3 };

function splitKeys(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
}

/**
 * Auth settings from the environment, under `overrides` (a config file's `auth:` block):
 * `LARDER_API_KEYS`, `LARDER_INGEST_KEYS`, `LARDER_ADMIN_KEYS` (comma-separated), `LARDER_AUTH`
 * (`on` | `off`; default: on exactly when some key is configured), `LARDER_METRICS_PUBLIC` (`1`).
 * Throws LARDER_ERR_CONFIG when auth is forced on without any key, or a key is too short.
 */
export function authConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<AuthConfig> = {},
): AuthConfig {
  const readKeys = overrides.readKeys ?? splitKeys(env['LARDER_API_KEYS']);
  const ingestKeys = overrides.ingestKeys ?? splitKeys(env['LARDER_INGEST_KEYS']);
  const adminKeys = overrides.adminKeys ?? splitKeys(env['LARDER_ADMIN_KEYS']);
  const anyKey = readKeys.length + ingestKeys.length + adminKeys.length > 0;
  const mode = env['LARDER_AUTH']?.trim().toLowerCase();
  if (mode !== undefined && mode !== '' && !['on', 'off', 'true', 'false', '1', '0'].includes(mode)) {
    throw new LarderError(
      'LARDER_ERR_CONFIG',
      `LARDER_AUTH must be "on" or "off", got "${env['LARDER_AUTH']}"`,
    );
  }
  const fromEnv = mode === undefined || mode === '' ? anyKey : ['on', 'true', '1'].includes(mode);
  const enabled = overrides.enabled ?? fromEnv;
  if (enabled && !anyKey) {
    throw new LarderError(
      'LARDER_ERR_CONFIG',
      'auth is on but no API key is configured; set LARDER_API_KEYS and LARDER_ADMIN_KEYS, or LARDER_AUTH=off',
    );
  }
  for (const key of [...readKeys, ...ingestKeys, ...adminKeys]) {
    if (key.length < 16) {
      throw new LarderError(
        'LARDER_ERR_CONFIG',
        `an API key is ${key.length} characters long; use at least 16 random characters`,
      );
    }
  }
  const publicMetrics =
    overrides.publicMetrics ??
    ['1', 'true', 'on'].includes((env['LARDER_METRICS_PUBLIC'] ?? '').toLowerCase());
  return { enabled, readKeys, ingestKeys, adminKeys, publicMetrics };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Which access the route needs. Every route declares one: the auth plugin refuses to start a
     * server with a route that does not (see plugins/auth.ts).
     */
    access?: Access;
  }
}

/**
 * The access a route declares in its config (`config: { access: 'admin' }`), or undefined. Access
 * is decided on the route the router matched, never on the URL text: the router decodes
 * percent-encodings the URL text still has.
 */
export function declaredAccess(routeConfig: unknown): Access | undefined {
  const declared = (routeConfig as { access?: unknown } | null | undefined)?.access;
  return typeof declared === 'string' && Object.hasOwn(RANK, declared) ? (declared as Access) : undefined;
}

function digest(key: string): string {
  return createHash('sha256').update(key).digest('base64');
}

/** The key a request carries, if any. */
export function presentedKey(request: Pick<FastifyRequest, 'headers'>): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.length > 7 && header.slice(0, 7).toLowerCase() === 'bearer ')
    return header.slice(7).trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
}

/** Resolves keys to the access they grant. */
export class KeyRing {
  readonly #grants = new Map<string, Access>();

  constructor(config: Pick<AuthConfig, 'readKeys' | 'ingestKeys' | 'adminKeys'>) {
    for (const key of config.readKeys) this.#grant(key, 'read');
    for (const key of config.ingestKeys) this.#grant(key, 'ingest');
    for (const key of config.adminKeys) this.#grant(key, 'admin');
  }

  #grant(key: string, access: Access): void {
    const d = digest(key);
    const previous = this.#grants.get(d);
    if (previous === undefined || RANK[access] > RANK[previous]) this.#grants.set(d, access);
  }

  /** The access `key` grants; `public` for an unknown or missing key. */
  accessOf(key: string | undefined): Access {
    if (key === undefined) return 'public';
    return this.#grants.get(digest(key)) ?? 'public';
  }
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || h.startsWith('127.') || h === '::ffff:127.0.0.1';
}

/** Logs a loud warning when auth is off and the server is reachable from other machines. */
export function warnIfOpen(
  config: Pick<AuthConfig, 'enabled'>,
  host: string,
  logger: Pick<Logger, 'warn'>,
): boolean {
  if (config.enabled || isLoopback(host)) return false;
  logger.warn(
    { host, auth: 'off' },
    `!!! AUTH IS OFF while listening on ${host}: anyone who can reach this address can read every feature and run admin actions. Set LARDER_API_KEYS and LARDER_ADMIN_KEYS (see docs/serving.md), or listen on 127.0.0.1. !!!`,
  );
  return true;
}
