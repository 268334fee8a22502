import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchConfigFrom } from '../../src/config/batch-section.ts';
import { viewJob } from '../../src/ingest/batch/jobs/job-store.ts';
import { openBatch, type OpenedBatch } from '../../src/ingest/batch/open-batch.ts';
import { Watchdog, type JobAlert } from '../../src/ingest/batch/watchdog.ts';
import { manualClock } from '../store/manual-clock.ts';
import { tempDir } from '../support/temp-dir.ts';
import { jsonl, registryYaml, writeFiles } from './support/fixtures.ts';
import { deleteRedisPrefix } from './support/redis-cleanup.ts';

/**
 * The distributed runner with no `larder worker` running: tasks are queued in Redis and nobody
 * takes them, which is exactly a job stuck "runnable". Job state and the watchdog share a manual
 * clock, so time passes without sleeping.
 */
describe('watchdog: stuck jobs, timeouts and failure alerts (distributed mode, no workers)', () => {
  const tmp = tempDir('larder-watchdog-');
  const registryDir = path.join(tmp.dir, 'registry');
  const alerts: JobAlert[] = [];
  let server: Server;
  let batch: OpenedBatch;
  let webhook = '';
  const prefix = `larder-test-${randomBytes(4).toString('hex')}`;
  const clock = manualClock(Date.now());

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        alerts.push(JSON.parse(body) as JobAlert);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    webhook = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
    writeFiles(registryDir, {
      'data/a.jsonl': jsonl([{ user_id: 1, region: 1 }]),
      'registry.yaml': registryYaml(`
  regions:
    source: {format: jsonl, path: data/a.jsonl}
    feature: user.region_id
    entityIdField: user_id
    fields: [{name: region, rename: region_id, type: int}]
    timeout: 1h
  nowhere:
    source: {format: jsonl, path: data/none-*.jsonl}
    feature: user.region_id
    entityIdField: user_id
    fields: [{name: region, rename: region_id, type: int}]
`),
    });
    batch = await openBatch({
      config: batchConfigFrom({
        mode: 'distributed',
        prefix,
        stuckAfter: '1s',
        webhook,
        consoleUrl: 'https://larder.example.com/',
      }),
      registryDir,
      dataDir: path.join(tmp.dir, 'data'),
      now: clock.now,
    });
  });

  afterAll(async () => {
    await batch?.close();
    await deleteRedisPrefix(prefix);
    await new Promise((resolve) => server?.close(resolve));
    tmp.remove();
  });

  it('alerts once, with the job and its stable URL, when a runnable job makes no progress', async () => {
    const job = await batch.runtime.submit('regions');
    expect(job.state).toBe('runnable');
    await batch.watchdog.scan();
    clock.advance(999);
    await batch.watchdog.scan();
    expect(alerts.filter((a) => a.job.id === job.id)).toHaveLength(0);
    clock.advance(201);
    await batch.watchdog.scan();
    await batch.watchdog.scan();
    const stuck = alerts.filter((a) => a.job.id === job.id);
    expect(stuck).toHaveLength(1);
    expect(stuck[0]).toMatchObject({
      event: 'job.stuck',
      url: `https://larder.example.com/jobs/${job.id}`,
      job: { id: job.id, ingestion: 'regions', state: 'runnable', attempt: 1, mode: 'distributed' },
    });
    expect(stuck[0]?.message).toMatch(
      /stuck runnable: no progress for 1 s \(no worker has taken its tasks\)/,
    );
    const logs = await batch.runtime.jobs.logs(job.id);
    expect(logs.some((l) => l.level === 'warn' && l.message.includes('is stuck runnable'))).toBe(true);
    await batch.runtime.cancel(job.id);
  });

  it('fails a running job past its timeout', async () => {
    const job = await batch.runtime.submit('regions');
    // Play the worker that picked the task up, then went silent.
    expect(await batch.runtime.tracker.taskStarted(job.id, 0, 'test-worker')).toBe(true);
    const quiet = new Watchdog({
      tracker: batch.runtime.tracker,
      config: { stuckAfterMs: 86_400_000, webhook: undefined, consoleUrl: '' },
      now: clock.now,
    });
    clock.advance(3_600_000);
    await quiet.scan();
    expect((await viewJob(batch.runtime.jobs, job.id))?.state).toBe('running');
    clock.advance(1);
    await quiet.scan();
    const view = await viewJob(batch.runtime.jobs, job.id);
    expect(view?.state).toBe('failed');
    expect(view?.failure).toEqual({
      code: 'LARDER_ERR_BATCH_TIMEOUT',
      message: 'the job ran longer than its timeout of 3600 s',
    });
  });

  it('posts each failed job once, linking to it', async () => {
    const job = await batch.runtime.submit('nowhere');
    expect(job.state).toBe('failed');
    await batch.watchdog.scan();
    await batch.watchdog.scan();
    const failed = alerts.filter((a) => a.job.id === job.id);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      event: 'job.failed',
      url: `https://larder.example.com/jobs/${job.id}`,
      job: { state: 'failed', failure: { code: 'LARDER_ERR_BATCH_SOURCE' } },
    });
  });
});
