import type { Logger } from 'pino';
import type { LarderConfig } from '../../config/load-config.ts';
import type { BatchRuntime } from '../../ingest/batch/batch-runtime.ts';
import { openBatch, type OpenedBatch } from '../../ingest/batch/open-batch.ts';
import type { Ingestor } from '../../ingest/ingestor-contract.ts';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { AdminSources, RegistryStatus } from '../../serve/admin/admin-sources.ts';
import type { DeadLetter, DeadLetterStore } from '../../store/dead-letters.ts';
import type { LmdbEnv } from '../../store/lmdb/lmdb-env.ts';
import { replayDeadLetters } from '../replay-dead-letters.ts';
import type { WriteActivity } from './feature-activity.ts';
import { BatchJobsAdmin } from './jobs-admin.ts';
import type { DeployedRegistry } from '../deployed-registry.ts';
import type { RegistryStatusLog } from './registry-status.ts';
import type { StreamHistoryRecorder } from './stream-history.ts';

export interface ConsoleSourcesOptions {
  readonly config: LarderConfig;
  readonly registry: RegistryHolder;
  readonly dataDir: string;
  readonly env: LmdbEnv;
  readonly logger: Logger;
  readonly ingestor: Ingestor;
  readonly deadLetters: DeadLetterStore;
  readonly history: StreamHistoryRecorder;
  readonly activity: WriteActivity;
  readonly registryStatus: RegistryStatusLog;
  /** The deployed registry: its rollout and its source's refresh. */
  readonly deployed?: DeployedRegistry;
  /** The batch services this process runs, once started; otherwise a batch runtime is opened on first use. */
  readonly runningBatch: () => BatchRuntime | undefined;
}

export interface ConsoleSources {
  readonly admin: AdminSources;
  /** Closes the batch runtime opened for the console, if one was. */
  close(): Promise<void>;
}

/**
 * What the admin API and the console read, from the parts of this runtime: the stream history and
 * feature activity it records, its registry watcher's status, dead-letter replay through its
 * ingestor, and the batch jobs of its job store (the batch services' runtime when they run here,
 * else one opened when the jobs page is first asked for: it lists, retries and cancels the same
 * jobs `larder jobs` does).
 */
export function consoleSources(options: ConsoleSourcesOptions): ConsoleSources {
  let opened: Promise<OpenedBatch> | undefined;
  const batch = async (): Promise<BatchRuntime> => {
    const running = options.runningBatch();
    if (running !== undefined) return running;
    opened ??= openBatch({
      config: options.config.batch,
      registry: options.registry,
      dataDir: options.dataDir,
      store: options.config.store,
      env: options.env,
      logger: options.logger,
    });
    return (await opened).runtime;
  };
  return {
    admin: {
      streams: options.history,
      features: options.activity,
      registry: registrySources(options.registryStatus, options.deployed),
      jobs: new BatchJobsAdmin(batch, options.registry),
      deadLetters: {
        async replay(ids) {
          // Ids already gone (replayed meanwhile) are skipped, not an error.
          const entries = (await Promise.all(ids.map((id) => options.deadLetters.get(id)))).filter(
            (e): e is DeadLetter => e !== undefined,
          );
          return replayDeadLetters(options.ingestor, options.deadLetters, entries);
        },
      },
    },
    async close() {
      if (opened !== undefined) await (await opened).close();
    },
  };
}

/** The registry part of the admin API: the watcher's status, and the rollout's when there is one. */
function registrySources(log: RegistryStatusLog, deployed: DeployedRegistry | undefined): RegistryStatus {
  const rollout = deployed?.rollout;
  return {
    status: () => log.status(),
    rollout: async () => (rollout === undefined ? null : rollout.view()),
    refusal: () => rollout?.refusal ?? null,
    ...(rollout === undefined ? {} : { appliedVersion: () => rollout.appliedRecord() }),
    ...(deployed === undefined ? {} : { refresh: () => deployed.refresh() }),
  };
}
