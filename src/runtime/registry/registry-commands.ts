import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LarderConfig } from '../../config/load-config.ts';
import { LarderError } from '../../errors.ts';
import { parseRegistrySource } from '../../registry/registry-source.ts';
import type { Registry } from '../../registry/types.ts';
import { openLmdbEnv, type LmdbEnv } from '../../store/lmdb/lmdb-env.ts';
import type { OnlineStore } from '../../store/online-store.ts';
import { storeFromConfig } from '../../store/store-from-config.ts';
import {
  planRegistry,
  readPersistedQueries,
  type PersistedQueryText,
  type RegistryPlan,
} from './registry-plan.ts';
import { filesOf } from './recorded-files.ts';
import { loadRecordedRegistry, openRegistrySource } from './registry-sources.ts';
import { RegistryVersionStore, type AppliedVersion } from './version-store.ts';

/**
 * What `larder plan`, `larder apply` and `larder registry history|rollback` share: the store's
 * registry versions opened from `--data` / `--config`, the proposed registry read from its source,
 * and the plan between them.
 */

export interface OpenedVersions {
  readonly versions: RegistryVersionStore;
  readonly store: OnlineStore;
  close(): Promise<void>;
}

/**
 * The registry versions of the store the config names (LMDB in `dataDir` by default). `lmdbEnv`:
 * an environment the caller opened on `dataDir` (left open on close), else one of its own.
 */
export async function openVersions(
  config: LarderConfig,
  dataDir: string,
  lmdbEnv?: LmdbEnv,
): Promise<OpenedVersions> {
  const owned = lmdbEnv === undefined && config.store.type === 'lmdb' ? openLmdbEnv(dataDir) : undefined;
  const env = lmdbEnv ?? owned;
  const store = storeFromConfig(config.store, { dataDir, ...(env === undefined ? {} : { lmdbEnv: env }) });
  await store.open();
  return {
    versions: new RegistryVersionStore(store),
    store,
    async close() {
      await store.close();
      await owned?.close();
    },
  };
}

/** A registry proposed by a command: its source's head, the files it was read from, its commit. */
export interface ProposedRegistry {
  readonly registry: Registry;
  readonly commit: string | null;
  readonly source: string;
  readonly files: AppliedVersion['files'];
  readonly assets: NonNullable<AppliedVersion['assets']>;
  close(): Promise<void>;
}

/** `config`: its `registry.git` credentials are used for a Git source. */
export async function readProposed(spec: string, config?: LarderConfig): Promise<ProposedRegistry> {
  const source = await openRegistrySource(parseRegistrySource(spec), config?.registry?.git);
  try {
    const head = await source.head();
    const read = await filesOf(head.registry);
    if (read === undefined)
      throw new LarderError(
        'LARDER_ERR_SPEC_READ',
        `the registry in ${source.description} changed while it was read; run again`,
      );
    return { ...head, source: source.description, ...read, close: () => source.close() };
  } catch (err) {
    await source.close();
    throw err;
  }
}

/** The compiled registry of a recorded version (written out to a temporary directory). */
export async function compileRecorded(applied: AppliedVersion): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-plan-'));
  try {
    return await loadRecordedRegistry(applied, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What a running server says it runs (`GET /v1/admin/registry/applied`), for `larder plan --against`. */
export interface ServerApplied {
  readonly applied: AppliedVersion | null;
  readonly persistedQueries: readonly PersistedQueryText[];
}

export async function fetchServerApplied(url: string, apiKey: string | undefined): Promise<ServerApplied> {
  const target = new URL('/v1/admin/registry/applied', url);
  let response: Response;
  try {
    response = await fetch(target, {
      headers: apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new LarderError(
      'LARDER_ERR_BAD_REQUEST',
      `--against ${url}: the server did not answer: ${(err as Error).message}`,
    );
  }
  const body = (await response.json().catch(() => null)) as (ServerApplied & { message?: string }) | null;
  if (!response.ok || body === null)
    throw new LarderError(
      'LARDER_ERR_BAD_REQUEST',
      `--against ${url}: ${response.status} ${body?.message ?? response.statusText}`,
    );
  return body;
}

/** The plan of `proposed` over the version applied in the store (or on the server). */
export async function planOver(
  applied: AppliedVersion | null | undefined,
  proposed: Registry,
  persistedQueries: readonly PersistedQueryText[],
  allowBreaking = false,
): Promise<RegistryPlan> {
  const before = applied === null || applied === undefined ? undefined : await compileRecorded(applied);
  return planRegistry(before, proposed, { persistedQueries, allowBreaking });
}

export { readPersistedQueries };

/** An applied version by its number (`3`, `v3`) or a hash prefix of at least 7 characters. */
export function findVersion(history: readonly AppliedVersion[], wanted: string): AppliedVersion {
  const number = /^v?(\d+)$/.exec(wanted);
  const found = number
    ? history.find((v) => v.seq === Number(number[1]))
    : wanted.length >= 7
      ? (() => {
          const matches = [
            ...new Map(
              history.filter((v) => v.version.startsWith(wanted)).map((v) => [v.version, v]),
            ).values(),
          ];
          return matches.length === 1 ? history.find((v) => v.version === matches[0]!.version) : undefined;
        })()
      : undefined;
  if (found === undefined)
    throw new LarderError(
      'LARDER_ERR_REGISTRY_VERSION',
      `no applied registry version "${wanted}" (versions: ${history.map((v) => v.seq).join(', ') || 'none'})`,
    );
  return found;
}

/** Another version was applied while a command planned over the previous one. */
export function movedError(): LarderError {
  return new LarderError(
    'LARDER_ERR_REGISTRY_VERSION',
    'another registry version was applied while this one was planned; run the command again to plan over it',
  );
}
