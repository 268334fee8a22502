import { z } from 'zod';
import { nonEmptyString, section } from './config-values.ts';

/**
 * `registry:`, how a `git+` registry source is fetched (docs/registry.md). Credentials live here or
 * in the environment, never in the registry:
 *
 * ```yaml
 * registry:
 *   git:
 *     token: ${FEATURES_REPO_TOKEN}   # sent as Authorization: Bearer …
 *     # or username + password (HTTP basic)
 * ```
 */
export interface RegistryConfig {
  readonly git: {
    readonly token: string | undefined;
    readonly username: string | undefined;
    readonly password: string | undefined;
  };
}

export const registrySection = section(
  z
    .object({
      git: section(
        z
          .object({
            token: nonEmptyString.optional(),
            username: nonEmptyString.optional(),
            password: nonEmptyString.optional(),
          })
          .strict(),
      ).optional(),
    })
    .strict(),
);

export type RegistrySection = z.output<typeof registrySection>;

export function registryConfigFrom(s: RegistrySection = {}): RegistryConfig {
  return { git: { token: s.git?.token, username: s.git?.username, password: s.git?.password } };
}
