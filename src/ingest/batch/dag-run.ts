import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { isLarderError } from '../../errors.ts';
import { downstreamOf, topologicalOrder } from '../../registry/dependency-graph.ts';
import type { BatchRuntime } from './batch-runtime.ts';
import { isTerminal, type JobRecord, type JobTrigger } from './jobs/job-types.ts';
import type { Registry } from '../../registry/types.ts';

export interface DagRun {
  readonly runId: string;
  /** Ingestion name → job id, in run order. */
  readonly jobs: ReadonlyMap<string, string>;
  /** Resolves once every job of the run is finished. */
  readonly settled: Promise<JobRecord[]>;
}

export interface DagRunOptions {
  readonly trigger: JobTrigger;
  /** Include every ingestion that depends on the root, transitively (default true). */
  readonly downstream?: boolean;
  /** Makes the run's jobs idempotent per tick: a second run with the same key reuses them. */
  readonly dedupeKey?: string;
  readonly pollMs?: number;
  readonly logger?: Logger;
}

/**
 * Runs an ingestion and, by default, everything downstream of it (the ingestions whose
 * `dependsOn` reach it), in dependency order:
 *
 * - every job of the run is created at once, queued, knowing the jobs it waits for;
 * - a job starts when all the jobs it waits for have succeeded;
 * - a job whose upstream failed or was cancelled fails with LARDER_ERR_BATCH_UPSTREAM, and so
 *   on down the graph;
 * - a dependency outside the run (the root's own upstream) must have succeeded in its latest
 *   job, or the job fails with LARDER_ERR_BATCH_UPSTREAM.
 */
export async function startDagRun(
  runtime: BatchRuntime,
  registry: Registry,
  root: string,
  options: DagRunOptions,
): Promise<DagRun> {
  const ingestions = registry.ingestions;
  const graph = new Map([...ingestions].map(([name, def]) => [name, def.dependsOn]));
  const members = options.downstream === false ? new Set([root]) : downstreamOf(graph, root);
  const order = topologicalOrder(graph, members);
  const runId = `run-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const jobs = new Map<string, string>();

  for (const name of order) {
    const deps = ingestions.get(name)?.dependsOn ?? [];
    const waitsFor = deps.filter((d) => members.has(d)).map((d) => jobs.get(d) as string);
    // Every job is created held; the coordinator starts each once its upstream has succeeded.
    const job = await runtime.submit(name, {
      trigger: name === root ? options.trigger : 'dag',
      runId,
      waitsFor,
      hold: true,
      ...(options.dedupeKey === undefined ? {} : { dedupeKey: `${options.dedupeKey}#${name}` }),
    });
    jobs.set(name, job.id);
    const outside = deps.filter((d) => !members.has(d));
    const stale = outside.length === 0 ? undefined : await staleDependency(runtime, outside);
    if (stale !== undefined) await runtime.tracker.fail(job.id, 'LARDER_ERR_BATCH_UPSTREAM', stale);
  }

  const settled = coordinate(runtime, jobs, options);
  settled.catch(() => undefined);
  return { runId, jobs, settled };
}

/** Why an outside dependency blocks the run, or undefined when all of them last succeeded. */
async function staleDependency(runtime: BatchRuntime, deps: readonly string[]): Promise<string | undefined> {
  for (const dep of deps) {
    const [latest] = await runtime.jobs.listJobs({ ingestion: dep, limit: 1 });
    if (latest === undefined) return `dependency ${dep} has never run`;
    if (latest.state !== 'succeeded') return `dependency ${dep}'s latest job ${latest.id} is ${latest.state}`;
  }
  return undefined;
}

async function coordinate(
  runtime: BatchRuntime,
  jobs: ReadonlyMap<string, string>,
  options: DagRunOptions,
): Promise<JobRecord[]> {
  const ids = [...jobs.values()];
  for (;;) {
    const records = await Promise.all(ids.map((id) => runtime.jobs.getJob(id)));
    const byId = new Map(records.flatMap((r) => (r === undefined ? [] : [[r.id, r] as const])));
    for (const job of byId.values()) {
      if (job.state !== 'queued') continue;
      const upstream = job.waitsFor.map((id) => byId.get(id));
      const failed = upstream.find((u) => u !== undefined && isTerminal(u.state) && u.state !== 'succeeded');
      if (failed !== undefined) {
        await runtime.tracker.fail(
          job.id,
          'LARDER_ERR_BATCH_UPSTREAM',
          `upstream job ${failed.id} (${failed.ingestion}) ${failed.state}; ${job.ingestion} did not run`,
        );
        continue;
      }
      if (upstream.every((u) => u?.state === 'succeeded')) {
        await runtime.start(job.id).catch((err: unknown) => {
          options.logger?.error({ err, job: job.id }, 'batch: could not start a DAG job');
          if (!isLarderError(err)) throw err;
        });
      }
    }
    if ([...byId.values()].every((r) => isTerminal(r.state)) && byId.size === ids.length)
      return [...byId.values()];
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 300));
  }
}
