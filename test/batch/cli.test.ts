import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LmdbJobStore } from '../../src/ingest/batch/jobs/lmdb-job-store.ts';
import { openLmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { startLarder } from '../support/larder-process.ts';
import { waitUntil } from '../support/wait-until.ts';
import { tempDir } from '../support/temp-dir.ts';
import { jsonl, readUsers, registryYaml, writeFiles } from './support/fixtures.ts';

async function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = startLarder(args, { LARDER_LOG_LEVEL: 'warn' });
  const code = await child.exited;
  return { code, out: child.output() };
}

// Each command is a real `larder` process (a few seconds each to start through tsx on 2 cores).
describe('larder backfill and larder jobs (embedded, real processes)', () => {
  const tmp = tempDir('larder-batch-cli-');
  const registryDir = path.join(tmp.dir, 'registry');
  const dataDir = path.join(tmp.dir, 'data');
  const common = ['--registry', registryDir, '--data', dataDir];

  beforeAll(() => {
    const bad = Array.from({ length: 50 }, (_, i) => ({ user_id: i, region: i < 10 ? 'unknown' : i }));
    const big = Array.from(
      { length: 600_000 },
      (_, i) => `{"id":"b${i}","user_id":${i % 1000},"ts":${1_700_000_000_000 + i},"article":${i}}`,
    );
    writeFiles(registryDir, {
      'data/good.jsonl': jsonl([
        { user_id: 1, region: 5 },
        { user_id: 2, region: 6 },
      ]),
      'data/bad.jsonl': jsonl(bad),
      'data/big.jsonl': big.join('\n') + '\n',
      'registry.yaml': registryYaml(`
  good:
    source: {format: jsonl, path: data/good.jsonl}
    feature: user.region_id
    entityIdField: user_id
    fields: [{name: region, rename: region_id, type: int}]
  bad:
    source: {format: jsonl, path: data/bad.jsonl}
    feature: user.region_id
    entityIdField: user_id
    fields: [{name: region, rename: region_id, type: int}]
  big:
    source: {format: jsonl, path: data/big.jsonl}
    feature: user.recent_views
    entityIdField: user_id
    timestampField: ts
    eventIdField: id
    fields: [{name: article, rename: article_id, type: int}]
    parallelism: 1
`),
    });
  });

  afterAll(() => tmp.remove());

  it('exits 0 when the job succeeds, printing its URL and counts (--workers: deprecated for --threads)', async () => {
    const { code, out } = await run(['backfill', 'good', ...common, '--workers', '2']);
    expect(code, out).toBe(0);
    expect(out).toContain('--workers is deprecated (it counts threads); use --threads');
    expect(out).toMatch(/job \S+ succeeded/);
    expect(out).toMatch(/url: +http:\/\/127\.0\.0\.1:4000\/jobs\/\S+/);
    expect(out).toMatch(/rows: +2 read, 2 written, 0 filtered, 0 rejected/);
    const { regions } = await readUsers(dataDir, [1, 2]);
    expect(regions.map((r) => r?.value)).toEqual([5, 6]);
  }, 60_000);

  it('exits 1 on too many bad rows; jobs show explains why; after a fix, jobs retry reruns the same job', async () => {
    const failed = await run(['backfill', 'bad', ...common]);
    expect(failed.code).toBe(1);
    expect(failed.out).toContain(
      'LARDER_ERR_BATCH_ERROR_RATE: 10 of 50 rows rejected (20.00%), above maxErrorRate 1.00%',
    );
    const id = /job (\S+) failed/.exec(failed.out)?.[1] ?? '';
    expect(id).not.toBe('');

    const list = await run(['jobs', 'list', '--data', dataDir]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`${id}  failed .* bad  attempt 1 .* LARDER_ERR_BATCH_ERROR_RATE`));
    const show = await run(['jobs', 'show', id, '--data', dataDir]);
    expect(show.out).toContain('bad rows (sample):');
    expect(show.out).toContain('LARDER_ERR_EVENT_TYPE');
    expect(show.out).toContain('{"user_id":0,"region":"unknown"}');
    expect(show.out).toMatch(/planned: /);

    writeFiles(registryDir, {
      'data/bad.jsonl': jsonl(Array.from({ length: 50 }, (_, i) => ({ user_id: i, region: i }))),
    });
    const retried = await run(['jobs', 'retry', id, ...common]);
    expect(retried.code, retried.out).toBe(0);
    expect(retried.out).toContain(`job ${id}  succeeded  (attempt 2`);
    const { regions } = await readUsers(dataDir, [0, 9, 49]);
    expect(regions.map((r) => r?.value)).toEqual([0, 9, 49]);
    const again = await run(['jobs', 'retry', id, ...common]);
    expect(again.code).toBe(1);
    expect(again.out).toContain('LARDER_ERR_BATCH_JOB_STATE');
  }, 120_000);

  it('jobs cancel stops a running backfill in another process; the backfill exits 1', async () => {
    const backfill = startLarder(['backfill', 'big', ...common, '--threads', '1'], {
      LARDER_LOG_LEVEL: 'warn',
    });
    let id = '';
    await waitUntil(
      async () => {
        const env = openLmdbEnv(dataDir);
        try {
          const [job] = await new LmdbJobStore(env).listJobs({ ingestion: 'big', limit: 1 });
          id = job?.id ?? '';
          return job?.state === 'running';
        } finally {
          await env.close();
        }
      },
      30_000,
      'the big job running',
    );
    const cancel = await run(['jobs', 'cancel', id, '--data', dataDir]);
    expect(cancel.code, cancel.out).toBe(0);
    expect(await backfill.exited).toBe(1);
    expect(backfill.output()).toContain(`job ${id}  cancelled`);
    const show = await run(['jobs', 'show', id, '--data', dataDir, '--json']);
    const view = JSON.parse(show.out) as { state: string; progress: { rowsRead: number } };
    expect(view.state).toBe('cancelled');
    expect(view.progress.rowsRead).toBeLessThan(600_000);
  }, 60_000);
});
