import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Gauge, Registry as MetricsRegistry } from 'prom-client';
import { LarderError } from '../../errors.ts';
import { IssueCollector } from '../../registry/issue-collector.ts';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import { SpecValidationError } from '../../registry/spec-error.ts';
import type { Registry, SpecIssue } from '../../registry/types.ts';
import type { RegistryStatusLog } from '../console/registry-status.ts';
import { filesOf } from './recorded-files.ts';
import { loadRecordedRegistry, type OpenedRegistrySource, type SourcedRegistry } from './registry-sources.ts';
import { planExitCode, planRegistry, type PersistedQueryText, type RegistryPlan } from './registry-plan.ts';
import type { AppliedVersion, ProcessReport, RegistryVersionStore } from './version-store.ts';

export interface RolloutOptions {
  readonly source: OpenedRegistrySource;
  /** The registry holder every part of the process reads (before the config's stream overrides). */
  readonly holder: RegistryHolder;
  readonly versions: RegistryVersionStore;
  readonly persistedQueries: () => Promise<readonly PersistedQueryText[]>;
  readonly status: RegistryStatusLog;
  readonly logger: Logger;
  /** `serve`, `serve worker 2`, `ingest`… as `GET /v1/admin/registry` lists it. */
  readonly role: string;
  /** Where recorded versions are written out to be compiled. */
  readonly workDir: string;
  /** How often the store's applied version is read. Default 500 ms. */
  readonly followMs?: number;
  /** How often this process reports what it runs (and at once after each switch). Default 2 s. */
  readonly heartbeatMs?: number;
}

/** What `GET /v1/admin/registry` adds about the rollout. */
export interface RolloutView {
  readonly applied: Omit<AppliedVersion, 'files'> | null;
  /** This process. */
  readonly self: ProcessReport;
  /** Every process that reported within the last 10 s (5 heartbeats when they are slower), newest report first. */
  readonly processes: readonly (ProcessReport & { readonly current: boolean })[];
  /** True when every live process runs the applied version. */
  readonly converged: boolean;
}

/** The process's refusal of a breaking change its source offers, as `/healthz` shows it. */
export interface Refusal {
  readonly version: string;
  readonly commit: string | null;
  readonly at: number;
  readonly reason: string;
  readonly breaking: readonly string[];
}

/**
 * The registry rollout of one process (the protocol is in docs/registry.md):
 *
 * 1. **Propose.** The process's source (a directory, a Git branch) offers each new valid version.
 *    It is planned against the applied version (`larder plan`'s checks); a breaking change not
 *    allowed is refused (the applied version stays, the refusal shows in `/healthz`, the metrics and
 *    the admin API); anything else is published to the store as the new applied version.
 * 2. **Follow.** Every process reads the store's applied version every `followMs`, and switches
 *    its holder to it at once when it differs (one atomic swap: a request or an event is handled
 *    wholly under one version). Its own source's copy is used when it holds that version,
 *    otherwise the files recorded with the version.
 * 3. **Confirm.** Every `heartbeatMs` the process writes which version it runs into the store;
 *    `GET /v1/admin/registry` lists every process and whether they all run the applied one.
 */
export class RegistryRollout {
  readonly #o: RolloutOptions;
  readonly #id: string;
  readonly #startedAt = Date.now();
  readonly #followMs: number;
  readonly #heartbeatMs: number;
  #applied: AppliedVersion | undefined;
  #refusal: Refusal | null = null;
  #timers: NodeJS.Timeout[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** An offer the store did not take yet. */
  #pending: SourcedRegistry | undefined;
  /** The source's newest version: the copy to switch to when it becomes the applied one. */
  #lastOffered: Registry | undefined;
  /** An applied version this process could not load, and when it last tried. */
  #unloadable: { version: string; at: number } | undefined;
  readonly metrics = new MetricsRegistry();
  readonly #refusedGauge: Gauge;
  readonly #seqGauge: Gauge;

  constructor(options: RolloutOptions, applied: AppliedVersion | undefined) {
    this.#o = options;
    this.#applied = applied;
    this.#id = `${hostname()}:${process.pid}:${options.role.replace(/\s+/g, '-')}`;
    this.#followMs = options.followMs ?? 500;
    this.#heartbeatMs = options.heartbeatMs ?? 2_000;
    this.#refusedGauge = new Gauge({
      name: 'larder_registry_refused',
      help: '1 while the registry source offers a breaking change this process refused (the applied version stays)',
      registers: [this.metrics],
      // Across `--workers`: 1 when any worker refuses.
      aggregator: 'max',
    });
    this.#seqGauge = new Gauge({
      name: 'larder_registry_applied_seq',
      help: 'Number of the applied registry version this process runs (larder registry history)',
      registers: [this.metrics],
      // Across `--workers`: the oldest version a worker runs.
      aggregator: 'min',
    });
    this.#seqGauge.set(
      applied !== undefined && applied.version === options.holder.current.version ? applied.seq : 0,
    );
  }

  get refusal(): Refusal | null {
    return this.#refusal;
  }

  /** Starts following the store and reporting; the source's offers come through `offer`. */
  start(): void {
    const every = (ms: number, fn: () => Promise<void>): void => {
      const tick = (): void => {
        const timer = setTimeout(() => {
          fn()
            .catch((err: unknown) =>
              this.#o.logger.warn({ err }, 'registry rollout step failed; trying again'),
            )
            .finally(() => {
              if (!this.#closed) tick();
            });
        }, ms);
        timer.unref();
        this.#timers.push(timer);
      };
      tick();
    };
    every(this.#followMs, () => this.follow());
    every(this.#heartbeatMs, () => this.heartbeat());
    void this.heartbeat().catch(() => undefined);
  }

  /** A new version from the source: planned against the applied one, then published or refused. */
  offer(next: SourcedRegistry): Promise<void> {
    return this.#serial(async () => {
      // The newest offer replaces one still pending: an older version is never proposed after it.
      this.#pending = undefined;
      try {
        await this.#offer(next);
      } catch (err) {
        // The store did not take it (unreachable, say): proposed again at the next follow.
        if (!(err instanceof SpecValidationError)) this.#pending = next;
        throw err;
      }
    });
  }

  async #offer(next: SourcedRegistry): Promise<void> {
    this.#lastOffered = next.registry;
    const applied = await this.#o.versions.current();
    const version = next.registry.version;
    if (applied !== undefined && (version === applied.version || version === applied.sourceVersion)) {
      // Applied already, or decided on (a rollback went past it): nothing to do until the source changes.
      this.#clearRefusal(version);
      return;
    }
    const before = applied === undefined ? undefined : await this.#registryOf(applied);
    const plan = planRegistry(before, next.registry, { persistedQueries: await this.#o.persistedQueries() });
    if (planExitCode(plan) === 3) {
      this.#refuse(next, plan);
      return;
    }
    const read = await filesOf(next.registry);
    if (read === undefined) return; // the directory changed while it was read: its watcher offers the newer one
    const published = await this.#o.versions.publish(
      {
        version,
        commit: next.commit,
        source: this.#o.source.description,
        command: `larder ${this.#o.role.split(' ')[0] ?? 'serve'} (source pull)`,
        sourceVersion: version,
        ...read,
      },
      applied?.seq ?? 0,
    );
    if (published === undefined) {
      // Another version was applied while this one was planned. From this same source, it is as
      // new as this one or newer (another process pulled it): drop this offer. From elsewhere
      // (`larder apply`), this offer is still the source's newest: plan it again over that.
      const moved = await this.#o.versions.current();
      if (moved?.source === this.#o.source.description) return this.#follow();
      return this.#offer(next);
    }
    this.#clearRefusal(version);
    this.#o.logger.info(
      { seq: published.seq, version, commit: next.commit, changes: plan.declarations.length },
      'registry version published to the store',
    );
    await this.#follow();
  }

  /** Switches to the store's applied version when this process runs another. */
  follow(): Promise<void> {
    return this.#serial(() => this.#follow());
  }

  async #follow(): Promise<void> {
    if (this.#closed) return;
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#pending = undefined;
      try {
        await this.#offer(pending);
      } catch (err) {
        if (this.#pending === undefined) this.#pending = pending;
        throw err;
      }
      return;
    }
    const applied = await this.#o.versions.current();
    if (applied === undefined) return;
    this.#applied = applied;
    if (applied.version === this.#o.holder.current.version) {
      this.#seqGauge.set(applied.seq);
      return;
    }
    // A version that would not load is tried again every 10 s, not at every poll.
    if (this.#unloadable?.version === applied.version && Date.now() - this.#unloadable.at < 10_000) return;
    let registry: Registry;
    try {
      registry = await this.#registryOf(applied);
      this.#o.holder.replace(registry);
    } catch (err) {
      this.#unloadable = { version: applied.version, at: Date.now() };
      this.#o.status.refused(err instanceof SpecValidationError ? err.issues : issuesOf(err));
      this.#o.logger.error(
        { err, seq: applied.seq },
        'the applied registry version does not load here; this process keeps its version',
      );
      return;
    }
    this.#unloadable = undefined;
    this.#seqGauge.set(applied.seq);
    // A version applied after the refusal supersedes it: the source has moved on (or was overruled).
    if (this.#refusal !== null && applied.appliedAt > this.#refusal.at) this.#clearRefusal(applied.version);
    this.#o.status.applied();
    this.#o.logger.info(
      { seq: applied.seq, version: applied.version, commit: applied.commit },
      'registry version applied',
    );
    await this.heartbeat();
  }

  /** Writes this process's report into the store. */
  async heartbeat(): Promise<void> {
    if (this.#closed) return;
    await this.#o.versions.report(this.#report());
  }

  #report(): ProcessReport {
    const version = this.#o.holder.current.version;
    return {
      id: this.#id,
      host: hostname(),
      pid: process.pid,
      role: this.#o.role,
      version,
      seq: this.#applied?.version === version ? this.#applied.seq : null,
      startedAt: this.#startedAt,
      at: Date.now(),
      refused:
        this.#refusal === null ? null : { version: this.#refusal.version, reason: this.#refusal.reason },
    };
  }

  async view(): Promise<RolloutView> {
    const applied = await this.#o.versions.current();
    const liveAfter = Date.now() - Math.max(10_000, 5 * this.#heartbeatMs);
    const processes = (await this.#o.versions.processes())
      .filter((p) => p.at >= liveAfter)
      .map((p) => ({ ...p, current: applied !== undefined && p.version === applied.version }));
    const { files: _files, assets: _assets, ...summary } = applied ?? { files: [] };
    return {
      applied: applied === undefined ? null : (summary as Omit<AppliedVersion, 'files'>),
      self: this.#report(),
      processes,
      converged: applied !== undefined && processes.every((p) => p.current),
    };
  }

  /** The applied version with its files, and the persisted queries (`GET /v1/admin/registry/applied`). */
  async appliedRecord(): Promise<{
    applied: AppliedVersion | null;
    persistedQueries: readonly PersistedQueryText[];
  }> {
    return {
      applied: (await this.#o.versions.current()) ?? null,
      persistedQueries: await this.#o.persistedQueries(),
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    await this.#queue.catch(() => undefined);
    await this.#o.versions.forget(this.#id).catch(() => undefined);
  }

  /** The compiled registry of an applied version: the holder's, the source's copy, or its recorded files. */
  async #registryOf(applied: AppliedVersion): Promise<Registry> {
    if (applied.version === this.#o.holder.current.version) return this.#o.holder.current;
    if (this.#lastOffered?.version === applied.version) return this.#lastOffered;
    // The source's own copy first: it has the files beside the YAML (enricher modules, samples).
    if (applied.commit !== null) {
      const atCommit = await this.#o.source.atCommit(applied.commit).catch(() => undefined);
      if (atCommit?.version === applied.version) return atCommit;
    } else if (this.#o.source.source.kind === 'dir') {
      const head = await this.#o.source.head().catch(() => undefined);
      if (head?.registry.version === applied.version) return head.registry;
    }
    return loadRecordedRegistry(applied, this.#o.workDir);
  }

  #refuse(next: SourcedRegistry, plan: RegistryPlan): void {
    const refused = plan.breaking.filter((b) => !b.allowed);
    const reason = `breaking change refused (${refused.map((b) => b.id).join(', ')}); the applied version stays in force`;
    const already = this.#refusal?.version === next.registry.version;
    this.#refusal = {
      version: next.registry.version,
      commit: next.commit,
      at: Date.now(),
      reason,
      breaking: refused.map((b) => `${b.id}: ${b.reason}`),
    };
    this.#refusedGauge.set(1);
    if (already) return;
    const issues = new IssueCollector();
    for (const b of refused)
      issues.add('LARDER_ERR_REGISTRY_BREAKING', `${b.id}: ${b.reason}`, { file: '.', line: 1, column: 1 });
    this.#o.status.refused(issues.sorted());
    this.#o.logger.error(
      { version: next.registry.version, commit: next.commit, breaking: this.#refusal.breaking },
      `registry change refused: ${reason}. Allow it with allowBreaking in the registry or larder apply --allow-breaking`,
    );
  }

  #clearRefusal(version: string): void {
    if (this.#refusal === null) return;
    if (this.#refusal.version !== version)
      this.#o.logger.info('the registry source no longer offers the refused change');
    this.#refusal = null;
    this.#refusedGauge.set(0);
  }

  /** Offers, follows and reports run one at a time, so a switch never races a publish. */
  #serial(fn: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

/** A refusal as one spec issue list (`larder apply`'s error). */
export function breakingError(plan: RegistryPlan): LarderError {
  const refused = plan.breaking.filter((b) => !b.allowed);
  return new LarderError(
    'LARDER_ERR_REGISTRY_BREAKING',
    `the change is breaking and not allowed:\n${refused.map((b) => `  ${b.id}: ${b.reason}`).join('\n')}`,
    { details: { breaking: refused.map((b) => b.id) } },
  );
}

function issuesOf(err: unknown): SpecIssue[] {
  const issues = new IssueCollector();
  const code = err instanceof LarderError ? err.code : 'LARDER_ERR_SPEC_INVALID';
  issues.add(code, err instanceof Error ? err.message : String(err), { file: '.', line: 1, column: 1 });
  return issues.sorted();
}
