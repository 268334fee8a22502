import { ConfigError, type LarderConfig } from '../config/load-config.ts';
import { ERROR_CATALOG, isLarderError } from '../errors.ts';
import { authConfigFromEnv, type AuthConfig } from '../serve/auth.ts';
import { serveLimitsFromEnv, type ServeLimits } from '../serve/limits.ts';

/** What `createServer` takes from the config's `serve:` section. */
export interface ConfiguredServeOptions {
  readonly limits: ServeLimits;
  readonly auth: AuthConfig;
  readonly hotEntityTtlMs: number;
  readonly fastPath: boolean;
  readonly introspection: boolean;
  /** Serve the web console at `/console`. */
  readonly console: boolean;
}

/**
 * The server's options from `serve:`, over the server's defaults. The environment is already in
 * the config (env-variables.ts), so none is read here. Throws a `ConfigError` at `serve.auth` when
 * the keys do not add up (auth on without a key, a key too short).
 */
export function serveOptionsFrom(config: LarderConfig): ConfiguredServeOptions {
  let auth: AuthConfig;
  try {
    auth = authConfigFromEnv({}, config.serve.auth);
  } catch (err) {
    if (!isLarderError(err)) throw err;
    throw new ConfigError(config.file, [
      {
        code: 'LARDER_ERR_CONFIG_VALUE',
        where: config.where(['serve', 'auth']),
        message: `serve.auth: ${err.message}`,
        hint: ERROR_CATALOG.LARDER_ERR_CONFIG_VALUE.hint,
      },
    ]);
  }
  return {
    limits: serveLimitsFromEnv({}, config.serve.limits),
    auth,
    hotEntityTtlMs: config.serve.hotEntityTtlMs,
    fastPath: config.serve.fastPath,
    introspection: config.serve.introspection,
    console: config.serve.console.enabled,
  };
}
