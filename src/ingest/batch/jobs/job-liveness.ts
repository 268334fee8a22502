import os from 'node:os';
import type { JobView, TaskRecord } from './job-types.ts';

/**
 * Whether the process running an embedded job is still there. An embedded job runs on the thread
 * pool of the process that dispatched it (`larder backfill`, the server, the scheduler); if that
 * process dies (`kill -9`, a crash, the machine), nobody else will ever run the job's tasks, and
 * without this the job would stay `running` until someone cancelled it by hand. Distributed jobs
 * are not judged here: the queue hands a dead worker's task to another worker.
 *
 * The owner is the worker of the task started last (`thread@<host>:<pid>`; every task of an
 * embedded job runs in the process that dispatched it). On this host its pid answers exactly
 * whether it is alive; on another host (a data directory shared under another hostname) the job
 * counts as orphaned once nothing in it has moved for `leaseMs`.
 */

/** How long a job owned on another host may make no progress before it counts as orphaned. */
export const DEFAULT_OWNER_LEASE_MS = 10 * 60_000;

/** `<name>@<host>:<pid>` → its host and pid. */
export function workerOwner(worker: string | undefined): { host: string; pid: number } | undefined {
  const match = worker === undefined ? null : /@(.+):(\d+)$/.exec(worker);
  if (match === null) return undefined;
  return { host: match[1] as string, pid: Number(match[2]) };
}

/** Whether process `pid` of this host exists (signal 0 checks without signalling). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Why the running embedded job `view` has no live owner, or undefined when it has one (or when it
 * cannot be judged: not embedded, not running, no task ever started).
 */
export function orphanReason(
  view: JobView,
  tasks: readonly TaskRecord[],
  now: number,
  leaseMs = DEFAULT_OWNER_LEASE_MS,
): string | undefined {
  if (view.mode !== 'embedded' || view.state !== 'running') return undefined;
  let latest: TaskRecord | undefined;
  for (const task of tasks) {
    if (task.startedAt !== undefined && (latest?.startedAt ?? -1) < task.startedAt) latest = task;
  }
  const worker = latest?.worker;
  const owner = workerOwner(worker);
  if (owner === undefined) return undefined;
  if (owner.host === os.hostname()) {
    if (owner.pid === process.pid || processExists(owner.pid)) return undefined;
    return `the process running it (${worker}) is gone`;
  }
  const idleMs = now - view.progress.lastProgressAt;
  if (idleMs < leaseMs) return undefined;
  return `the process running it (${worker}, on another host) has made no progress for ${Math.round(idleMs / 1000)} s`;
}
