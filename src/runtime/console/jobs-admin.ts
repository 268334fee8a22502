import type { BatchRuntime } from '../../ingest/batch/batch-runtime.ts';
import { toJobView, type JobStore } from '../../ingest/batch/jobs/job-store.ts';
import {
  isTerminal,
  JOB_STATES,
  type JobRecord,
  type JobState,
  type JobView,
} from '../../ingest/batch/jobs/job-types.ts';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { JobQuery, JobsAdmin } from '../../serve/admin/admin-sources.ts';
import type { JobDagNode, JobDetail, JobList, JobSummary } from '../../serve/admin/admin-types.ts';

/** The console path of a job: what `/jobs/<id>` (its stable URL) redirects to. */
export const consoleJobPath = (id: string): string => `/console/jobs/${encodeURIComponent(id)}`;

/**
 * Counting jobs per state reads every job (10,000 jobs: a few hundred ms), so one scan serves the
 * pages for this long, and is renewed in the background while the stale one is still answered.
 */
const OVERVIEW_TTL_MS = 5_000;

/** What one scan over every job finds: counts per state, and the unfinished jobs with a stuck alert. */
interface Overview {
  readonly at: number;
  readonly counts: JobList['counts'];
  readonly alerted: readonly string[];
}

/**
 * Batch jobs for the admin API, over the batch runtime of this process (embedded pool or
 * distributed queue, opened on first use): pages of job summaries newest first, one job in full
 * with its log, bad-row sample and `dependsOn` graph, and retry/cancel through the same code as
 * `larder jobs retry|cancel` (BatchRuntime.retry, cancelJob).
 */
export class BatchJobsAdmin implements JobsAdmin {
  #overview: Overview | undefined;
  #scanning: Promise<Overview> | undefined;

  constructor(
    readonly batch: () => Promise<BatchRuntime>,
    readonly registry: Pick<RegistryHolder, 'current'>,
    readonly now: () => number = Date.now,
  ) {}

  async list(query: JobQuery): Promise<JobList> {
    const runtime = await this.batch();
    const store = runtime.jobs;
    const records = await store.listJobs({
      limit: query.limit + 1,
      ...(query.states === undefined ? {} : { states: query.states }),
      ...(query.ingestion === undefined ? {} : { ingestion: query.ingestion }),
      ...(query.q === undefined ? {} : { search: query.q }),
      ...(query.before === undefined ? {} : { before: query.before }),
    });
    const page = records.slice(0, query.limit);
    const items = await Promise.all(page.map(async (job) => summarise(await view(store, job), this.now())));
    const last = page[page.length - 1];
    const overview = await this.#currentOverview(store);
    return {
      items,
      ...(records.length > query.limit && last !== undefined ? { next: last.id } : {}),
      counts: overview.counts,
      stuck: await this.#stuck(store, overview.alerted),
    };
  }

  async get(id: string): Promise<JobDetail | undefined> {
    const store = (await this.batch()).jobs;
    const job = await store.getJob(id);
    if (job === undefined) return undefined;
    const jobView = await view(store, job);
    const logs = await store.logs(id, 200);
    return {
      summary: summarise(jobView, this.now()),
      mode: job.mode,
      runId: job.runId ?? null,
      source: `${job.spec.ingestion.source.format} ${job.spec.ingestion.source.path}`,
      maxErrorRate: job.spec.ingestion.maxErrorRate,
      plan: job.plan?.explanation ?? null,
      errorSamples: jobView.errorSamples.map((s) => ({
        position: s.position,
        code: s.code,
        reason: s.reason,
        row: s.row,
      })),
      logs: logs.map((l) => ({ at: l.at, level: l.level, message: l.message })),
      dag: await this.#dag(store, job),
      canRetry: job.state === 'failed' || job.state === 'cancelled',
      canCancel: !isTerminal(job.state),
    };
  }

  async retry(id: string): Promise<JobSummary> {
    const runtime = await this.batch();
    await runtime.retry(id);
    this.#overview = undefined;
    return summarise(await runtime.view(id), this.now());
  }

  async cancel(id: string): Promise<JobSummary> {
    const runtime = await this.batch();
    await runtime.cancel(id, 'cancelled from the console');
    this.#overview = undefined;
    return summarise(await runtime.view(id), this.now());
  }

  /** The last scan while it is fresh; a stale one is answered while a new scan runs. */
  async #currentOverview(store: JobStore): Promise<Overview> {
    const overview = this.#overview;
    if (overview !== undefined && this.now() - overview.at < OVERVIEW_TTL_MS) return overview;
    this.#scanning ??= this.#scan(store).finally(() => (this.#scanning = undefined));
    return overview ?? (await this.#scanning);
  }

  async #scan(store: JobStore): Promise<Overview> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    const alerted: string[] = [];
    for (const job of await store.listJobs({ limit: Number.MAX_SAFE_INTEGER })) {
      counts[job.state]++;
      if (job.stuckAlertedAt !== undefined && (job.state === 'runnable' || job.state === 'running'))
        alerted.push(job.id);
    }
    this.#overview = { at: this.now(), counts, alerted };
    return this.#overview;
  }

  /** Of the jobs alerted stuck, those that still are: unfinished, and no progress since the alert. */
  async #stuck(store: JobStore, alerted: readonly string[]): Promise<JobSummary[]> {
    const stuck: JobSummary[] = [];
    for (const id of alerted) {
      const job = await store.getJob(id);
      if (job === undefined) continue;
      const summary = summarise(await view(store, job), this.now());
      if (summary.stuck) stuck.push(summary);
    }
    return stuck;
  }

  /**
   * The `dependsOn` graph around the job's ingestion (its dependencies and dependents, transitively,
   * from the registry in force), each node with the job of the same DAG run when there is one.
   */
  async #dag(store: JobStore, job: JobRecord): Promise<JobDetail['dag']> {
    const ingestions = this.registry.current.ingestions;
    const dependsOn = (name: string): readonly string[] =>
      ingestions.get(name)?.dependsOn ?? (name === job.ingestion ? job.spec.ingestion.dependsOn : []);
    const dependents = (name: string): string[] =>
      [...ingestions.values()].filter((i) => i.dependsOn.includes(name)).map((i) => i.name);
    const names = new Set<string>([job.ingestion]);
    const edges: [string, string][] = [];
    const walk = (name: string, next: (n: string) => readonly string[], up: boolean): void => {
      for (const other of next(name)) {
        edges.push(up ? [other, name] : [name, other]);
        if (names.has(other)) continue;
        names.add(other);
        walk(other, next, up);
      }
    };
    walk(job.ingestion, dependsOn, true);
    walk(job.ingestion, dependents, false);
    const runJobs = new Map<string, JobRecord>([[job.ingestion, job]]);
    if (job.runId !== undefined) {
      for (const name of names) {
        if (runJobs.has(name)) continue;
        const candidates = await store.listJobs({ ingestion: name, limit: 50 });
        const same = candidates.find((c) => c.runId === job.runId);
        if (same !== undefined) runJobs.set(name, same);
      }
    }
    const nodes: JobDagNode[] = [...names].map((name) => {
      const run = runJobs.get(name);
      return {
        ingestion: name,
        job: run === undefined ? null : { id: run.id, state: run.state, url: consoleJobPath(run.id) },
        current: name === job.ingestion,
      };
    });
    const unique = [...new Map(edges.map((e) => [`${e[0]}\u0000${e[1]}`, e] as const)).values()];
    return { nodes, edges: unique };
  }
}

async function view(store: JobStore, job: JobRecord): Promise<JobView> {
  return toJobView(job, await store.getTasks(job.id));
}

/** The list row of a job: its state, progress and timing as the console shows them. */
export function summarise(view: JobView, now: number): JobSummary {
  const p = view.progress;
  const end = view.finishedAt ?? (isTerminal(view.state) ? view.updatedAt : now);
  return {
    id: view.id,
    ingestion: view.ingestion,
    feature: `${view.spec.entity.name}.${view.spec.feature.name}`,
    state: view.state,
    trigger: view.trigger,
    attempt: view.attempt,
    createdAt: view.createdAt,
    startedAt: view.startedAt ?? null,
    finishedAt: view.finishedAt ?? null,
    durationMs: view.startedAt === undefined ? null : Math.max(0, end - view.startedAt),
    progress: {
      rowsRead: p.rowsRead,
      written: p.written,
      filtered: p.filtered,
      rejected: p.rejected,
      bytesRead: p.bytesRead,
      bytesTotal: p.bytesTotal,
      tasksTotal: p.tasksTotal,
      tasksSucceeded: p.tasksSucceeded,
      tasksFailed: p.tasksFailed,
      tasksRunning: p.tasksRunning,
      errorRate: p.errorRate,
      lastProgressAt: p.lastProgressAt,
      fraction:
        p.bytesTotal > 0 ? Math.min(1, p.bytesRead / p.bytesTotal) : view.state === 'succeeded' ? 1 : 0,
    },
    failure: view.failure ?? null,
    stuck:
      !isTerminal(view.state) && view.stuckAlertedAt !== undefined && view.stuckAlertedAt >= p.lastProgressAt,
    url: consoleJobPath(view.id),
  };
}
