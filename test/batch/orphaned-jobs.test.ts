import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestionDef } from '../../src/ingest/batch/ingestion-def.ts';
import { viewJob } from '../../src/ingest/batch/jobs/job-store.ts';
import { JobTracker } from '../../src/ingest/batch/jobs/job-tracker.ts';
import type { JobRecord, TaskSlice } from '../../src/ingest/batch/jobs/job-types.ts';
import { LmdbJobStore } from '../../src/ingest/batch/jobs/lmdb-job-store.ts';
import { Watchdog } from '../../src/ingest/batch/watchdog.ts';
import { openLmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { manualClock } from '../store/manual-clock.ts';
import { entity, feature } from '../support/registry-builder.ts';
import { tempDir } from '../support/temp-dir.ts';

/** The pid of a process that has exited: what a `kill -9`ed backfill leaves behind. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

const slice: TaskSlice = {
  uri: '/data/a.jsonl',
  format: 'jsonl',
  objectSize: 10,
  mtimeMs: 0,
  start: 0,
  end: 10,
  bytes: 10,
};

const ingestion = {
  name: 'regions',
  source: { format: 'jsonl', path: 'data/a.jsonl' },
  entity: 'user',
  feature: 'region_id',
  entityIdField: 'user_id',
  timestampField: undefined,
  eventIdField: undefined,
  filter: [],
  fields: [],
  schedule: undefined,
  timezone: undefined,
  dependsOn: [],
  parallelism: 1,
  retries: 0,
  timeoutMs: 3_600_000,
  maxErrorRate: 0.01,
  pos: { file: 'r.yaml', line: 1, column: 1 },
} satisfies IngestionDef;

describe('a running embedded job whose process is gone is found and failed', () => {
  const tmp = tempDir('larder-orphans-');
  let store: LmdbJobStore;
  const clock = manualClock(Date.now());
  let tracker: JobTracker;
  let watchdog: Watchdog;

  beforeEach(() => {
    store = new LmdbJobStore(openLmdbEnv(tmp.dir), { ownsEnv: true });
    tracker = new JobTracker(store, clock.now);
    watchdog = new Watchdog({
      tracker,
      config: { stuckAfterMs: 3_600_000, webhook: undefined, consoleUrl: 'http://larder' },
      now: clock.now,
    });
  });
  afterEach(async () => {
    await store.close();
  });
  afterAll(() => tmp.remove());

  async function runningJob(worker: string, mode: JobRecord['mode'] = 'embedded'): Promise<string> {
    const spec = {
      ingestion,
      feature: feature('user', 'region_id'),
      entity: entity('user'),
      from: undefined,
      to: undefined,
    };
    const job = await tracker.create({ spec, trigger: 'backfill', mode });
    await tracker.claimSplitting(job.id);
    await tracker.recordSplit(
      job.id,
      {
        files: 1,
        tasks: 2,
        parallelism: 1,
        workersAvailable: 1,
        totalBytes: 20,
        totalRows: undefined,
        throughput: { bytesPerSec: 1, source: 'fixed' },
        targetSeconds: 1,
        explanation: 'test',
      },
      [slice, slice],
    );
    expect(await tracker.taskStarted(job.id, 0, worker)).toBe(true);
    return job.id;
  }

  it('its owner process on this host has exited: failed at once, its running task too', async () => {
    const id = await runningJob(`thread@${os.hostname()}:${deadPid()}`);
    await watchdog.scan();
    const view = await viewJob(store, id);
    expect(view?.state).toBe('failed');
    expect(view?.failure?.code).toBe('LARDER_ERR_BATCH_WORKER_LOST');
    expect(view?.failure?.message).toMatch(/is gone.*larder jobs retry/);
    expect((await store.getTask(id, 0))?.state).toBe('failed');
    // It can be retried: the unfinished tasks run again.
    expect(await tracker.retry(id)).toEqual([0, 1]);
  });

  it('its owner is alive (this process): left running', async () => {
    const id = await runningJob(`thread@${os.hostname()}:${process.pid}`);
    clock.advance(30 * 60_000); // past the lease, within the ingestion's timeout
    await watchdog.scan();
    expect((await viewJob(store, id))?.state).toBe('running');
  });

  it('owned on another host: failed only once it has made no progress for the lease', async () => {
    const id = await runningJob('thread@elsewhere:123');
    clock.advance(5 * 60_000);
    await watchdog.scan();
    expect((await viewJob(store, id))?.state).toBe('running');
    clock.advance(10 * 60_000);
    await watchdog.scan();
    expect((await viewJob(store, id))?.failure?.code).toBe('LARDER_ERR_BATCH_WORKER_LOST');
  });

  it("distributed jobs are left to the queue, which hands a dead worker's task to another", async () => {
    const id = await runningJob(`worker@${os.hostname()}:${deadPid()}`, 'distributed');
    await watchdog.scan();
    expect((await viewJob(store, id))?.state).toBe('running');
  });
});
