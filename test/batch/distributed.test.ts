import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisJobStore } from '../../src/ingest/batch/jobs/redis-job-store.ts';
import { viewJob } from '../../src/ingest/batch/jobs/job-store.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { waitUntil } from '../support/wait-until.ts';
import { tempDir } from '../support/temp-dir.ts';
import { readUsers, viewsIngestionFiles, writeFiles } from './support/fixtures.ts';
import { deleteRedisPrefix } from './support/redis-cleanup.ts';

const USERS = 500;
const FILES = 4;
const ROWS_PER_FILE = 50_000;
const T0 = 1_700_000_000_000;

describe('distributed backfill: BullMQ queue, two `larder worker` processes, one SIGKILLed mid-task', () => {
  const tmp = tempDir('larder-dist-');
  const registryDir = path.join(tmp.dir, 'registry');
  const dataDir = path.join(tmp.dir, 'data');
  const prefix = `larder-test-${randomBytes(4).toString('hex')}`;
  const configFile = path.join(tmp.dir, 'larder.yaml');
  const workers: LarderProcess[] = [];
  let jobs: RedisJobStore;

  beforeAll(async () => {
    const files = viewsIngestionFiles(
      { files: FILES, rowsPerFile: ROWS_PER_FILE, users: USERS, t0: T0 },
      '    retries: 2\n',
    );
    writeFiles(registryDir, files);
    writeFiles(tmp.dir, {
      'larder.yaml': `batch:\n  mode: distributed\n  prefix: ${prefix}\n  lockDuration: 2s\n  consoleUrl: http://console.test\n`,
    });
    jobs = new RedisJobStore({ url: 'redis://127.0.0.1:6379', prefix: `${prefix}:batch:` });
    for (let w = 0; w < 2; w++) {
      const worker = startLarder(['worker', '--data', dataDir, '--config', configFile], {
        LARDER_LOG_LEVEL: 'info',
      });
      workers.push(worker);
    }
    await waitUntil(
      () => workers.every((w) => w.output().includes('batch worker ready')),
      30_000,
      'two workers ready',
    );
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await jobs?.close();
    await deleteRedisPrefix(prefix);
    tmp.remove();
  });

  it('retries the killed worker’s task on the other worker; the job succeeds with exactly the expected rows', async () => {
    const backfill = startLarder([
      'backfill',
      'views',
      '--registry',
      registryDir,
      '--data',
      dataDir,
      '--config',
      configFile,
    ]);
    const victim = workers[0] as LarderProcess;
    const victimName = `:${victim.child.pid}`;
    let jobId = '';
    let killedTask = -1;
    // Wait until the first worker is in the middle of a task, then kill it without warning.
    await waitUntil(
      async () => {
        const [job] = await jobs.listJobs({ limit: 1 });
        if (job === undefined) return false;
        jobId = job.id;
        const tasks = await jobs.getTasks(job.id);
        const running = tasks.find((t) => t.state === 'running' && t.worker?.endsWith(victimName));
        if (running === undefined) return false;
        killedTask = running.index;
        return true;
      },
      60_000,
      'a task running on the first worker',
    );
    victim.child.kill('SIGKILL');
    await victim.exited;

    const code = await backfill.exited;
    expect(code, backfill.output()).toBe(0);
    expect(backfill.output()).toContain(`http://console.test/jobs/${jobId}`);

    const view = await viewJob(jobs, jobId);
    expect(view?.state).toBe('succeeded');
    expect(view?.mode).toBe('distributed');
    expect(view?.progress.tasksTotal).toBe(FILES);
    expect(view?.progress.rowsRead).toBe(FILES * ROWS_PER_FILE);
    const retried = (await jobs.getTasks(jobId)).find((t) => t.index === killedTask);
    expect(retried?.attempts).toBeGreaterThanOrEqual(2);
    expect(retried?.worker?.endsWith(victimName)).toBe(false);

    const { views } = await readUsers(dataDir, [...Array(USERS).keys()]);
    const perUser = (FILES * ROWS_PER_FILE) / USERS;
    expect(views.every((rows) => rows.length === perUser)).toBe(true);
    for (const user of [0, 123, USERS - 1]) {
      const rows = views[user] ?? [];
      const expected = Array.from({ length: perUser }, (_, k) => (perUser - 1 - k) * USERS + user);
      expect(rows.map((r) => r.values.article_id)).toEqual(expected);
      expect(rows.map((r) => r.ts)).toEqual(expected.map((n) => T0 + n));
      expect(rows.map((r) => r.eventId)).toEqual(expected.map((n) => `e${n}`));
    }
  }, 120_000);
});
