import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LmdbJobStore } from '../../src/ingest/batch/jobs/lmdb-job-store.ts';
import { openLmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { readUsers, registryYaml, writeFiles } from '../batch/support/fixtures.ts';
import { startLarder } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';

const ROWS = 200_000;
const USERS = 1_000;

async function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = startLarder(args, { LARDER_LOG_LEVEL: 'warn' });
  const code = await child.exited;
  return { code, out: child.output() };
}

/**
 * `kill -9` of `larder backfill` halfway: the job does not stay `running` (it is failed as
 * orphaned), `larder jobs retry` finishes it, and the store then holds every row exactly once.
 */
describe('SIGKILL during a backfill', () => {
  const tmp = tempDir('larder-kill-backfill-');
  const registryDir = path.join(tmp.dir, 'registry');
  const dataDir = path.join(tmp.dir, 'data');
  const common = ['--registry', registryDir, '--data', dataDir];

  beforeAll(() => {
    const rows = Array.from(
      { length: ROWS },
      (_, i) => `{"id":"b${i}","user_id":${i % USERS},"ts":${1_700_000_000_000 + i},"article":${i}}`,
    );
    writeFiles(registryDir, {
      'data/big.jsonl': rows.join('\n') + '\n',
      'registry.yaml': registryYaml(`
  big:
    source: {format: jsonl, path: data/big.jsonl}
    feature: user.recent_views
    entityIdField: user_id
    timestampField: ts
    eventIdField: id
    fields: [{name: article, rename: article_id, type: int}]
    parallelism: 2
`),
    });
  });
  afterAll(() => tmp.remove());

  async function bigJob(): Promise<{ id: string; state: string; rowsRead: number }> {
    const env = openLmdbEnv(dataDir);
    try {
      const store = new LmdbJobStore(env);
      const [job] = await store.listJobs({ ingestion: 'big', limit: 1 });
      const tasks = job === undefined ? [] : await store.getTasks(job.id);
      return {
        id: job?.id ?? '',
        state: job?.state ?? 'none',
        rowsRead: tasks.reduce((n, t) => n + t.counts.rowsRead, 0),
      };
    } finally {
      await env.close();
    }
  }

  it('the killed job is failed, not left running; a retry ends with every row once', async () => {
    const backfill = startLarder(['backfill', 'big', ...common, '--threads', '2'], {
      LARDER_LOG_LEVEL: 'warn',
    });
    await waitUntil(async () => (await bigJob()).rowsRead > 20_000, 60_000, 'the backfill to be under way');
    backfill.child.kill('SIGKILL');
    await backfill.exited;
    const killed = await bigJob();
    expect(killed.state).toBe('running');
    expect(killed.rowsRead).toBeLessThan(ROWS);

    // Any look at the job finds its process gone.
    const show = await run(['jobs', 'show', killed.id, '--data', dataDir, '--json']);
    const view = JSON.parse(show.out) as { state: string; failure: { code: string } };
    expect(view.state).toBe('failed');
    expect(view.failure.code).toBe('LARDER_ERR_BATCH_WORKER_LOST');

    const retry = await run(['jobs', 'retry', killed.id, ...common]);
    expect(retry.code, retry.out).toBe(0);
    expect((await bigJob()).state).toBe('succeeded');

    const users = [...Array(USERS).keys()];
    const { views } = await readUsers(dataDir, users);
    let rows = 0;
    views.forEach((userRows, user) => {
      const ids = userRows.map((r) => r.values.article_id as number);
      expect(new Set(ids).size, `no doubled row for user ${user}`).toBe(ids.length);
      expect(ids.length, `rows of user ${user}`).toBe(ROWS / USERS);
      rows += ids.length;
    });
    expect(rows).toBe(ROWS);
  }, 180_000);
});
