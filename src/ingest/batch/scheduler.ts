import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { Registry } from '../../registry/types.ts';
import type { BatchRuntime } from './batch-runtime.ts';
import { startDagRun, type DagRun } from './dag-run.ts';

export interface SchedulerOptions {
  readonly runtime: BatchRuntime;
  readonly registry: RegistryHolder;
  readonly logger?: Logger;
  /** Called for every DAG run a tick starts (tests and metrics). */
  readonly onRun?: (ingestion: string, run: DagRun) => void;
}

/**
 * The cron loop. Every ingestion with a `schedule` gets a croner job in its `timezone`. A tick
 * starts a DAG run of that ingestion and everything downstream of it; the run's jobs are keyed by
 * the tick, so two schedulers on one job store (a hot standby) do not run a tick twice. The crons
 * follow the registry: a reload replaces them.
 */
export class BatchScheduler {
  #crons: Cron[] = [];
  #unsubscribe: (() => void) | undefined;
  readonly #runs = new Set<Promise<unknown>>();
  #stopped = false;

  readonly #options: SchedulerOptions;
  constructor(options: SchedulerOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    await this.#install(this.#options.registry.current);
    this.#unsubscribe = this.#options.registry.onChange((next) => {
      void this.#install(next).catch((err: unknown) =>
        this.#options.logger?.error({ err }, 'batch scheduler: reload failed'),
      );
    });
  }

  /** The next fire time of each scheduled ingestion. */
  nextRuns(): { ingestion: string; next: Date | null }[] {
    return this.#crons.map((cron) => ({ ingestion: cron.name ?? '', next: cron.nextRun() }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    for (const cron of this.#crons) cron.stop();
    this.#crons = [];
    await Promise.allSettled([...this.#runs]);
  }

  async #install(registry: Registry): Promise<void> {
    const ingestions = registry.ingestions;
    for (const cron of this.#crons) cron.stop();
    this.#crons = [];
    if (this.#stopped) return;
    for (const def of ingestions.values()) {
      if (def.schedule === undefined) continue;
      const cron = new Cron(
        def.schedule,
        {
          name: def.name,
          protect: true,
          ...(def.timezone === undefined ? {} : { timezone: def.timezone }),
          catch: (err: unknown) =>
            this.#options.logger?.error({ err, ingestion: def.name }, 'batch scheduler: tick failed'),
        },
        (self: Cron) => this.#tick(def.name, self.currentRun() ?? new Date()),
      );
      this.#crons.push(cron);
    }
    this.#options.logger?.info(
      { scheduled: this.#crons.map((c) => ({ ingestion: c.name, next: c.nextRun()?.toISOString() })) },
      'batch scheduler: crons installed',
    );
  }

  async #tick(name: string, at: Date): Promise<void> {
    const { runtime, registry, logger } = this.#options;
    // Whole seconds: two schedulers see the same tick however late each fires.
    const tickKey = `${name}@${new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString()}`;
    const run = await startDagRun(runtime, registry.current, name, {
      trigger: 'schedule',
      dedupeKey: tickKey,
      ...(logger === undefined ? {} : { logger }),
    });
    logger?.info(
      { ingestion: name, runId: run.runId, jobs: Object.fromEntries(run.jobs) },
      'batch scheduler: tick started a run',
    );
    this.#options.onRun?.(name, run);
    this.#runs.add(run.settled);
    void run.settled.finally(() => this.#runs.delete(run.settled));
  }
}
