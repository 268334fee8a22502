import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchConfigFrom } from '../../src/config/batch-section.ts';
import { startDagRun, type DagRun } from '../../src/ingest/batch/dag-run.ts';
import { openBatch, type OpenedBatch } from '../../src/ingest/batch/open-batch.ts';
import { BatchScheduler } from '../../src/ingest/batch/scheduler.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { findCycle, topologicalOrder, downstreamOf } from '../../src/registry/dependency-graph.ts';
import { tempDir } from '../support/temp-dir.ts';
import { jsonl, readUsers, registryYaml, writeFiles } from './support/fixtures.ts';
import { waitUntil } from '../support/wait-until.ts';

describe('dependency graph', () => {
  const graph = new Map([
    ['a', []],
    ['b', ['a']],
    ['c', ['b', 'a']],
    ['d', ['a']],
    ['e', []],
  ]);
  it('orders dependencies first and finds what is downstream', () => {
    expect(topologicalOrder(graph, ['c', 'b', 'a'])).toEqual(['a', 'b', 'c']);
    expect([...downstreamOf(graph, 'a')].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect([...downstreamOf(graph, 'b')].sort()).toEqual(['b', 'c']);
    expect(findCycle(graph)).toBeUndefined();
  });
  it('names a cycle along its edges', () => {
    expect(
      findCycle(
        new Map([
          ['x', ['y']],
          ['y', ['z']],
          ['z', ['x']],
          ['w', ['x']],
        ]),
      ),
    ).toEqual(['x', 'y', 'z', 'x']);
  });
});

describe('scheduler and DAG runs (embedded)', () => {
  const tmp = tempDir('larder-sched-');
  const registryDir = path.join(tmp.dir, 'registry');
  const dataDir = path.join(tmp.dir, 'data');
  let batch: OpenedBatch;
  let registry: RegistryHolder;

  const ingestion = (name: string, file: string, extra = ''): string => `
  ${name}:
    source: {format: jsonl, path: ${file}}
    feature: user.region_id
    entityIdField: user_id
    fields: [{name: region, rename: region_id, type: int}]${extra}`;

  beforeAll(async () => {
    writeFiles(registryDir, {
      'data/a.jsonl': jsonl([{ user_id: 1, region: 10 }]),
      'data/b.jsonl': jsonl([{ user_id: 2, region: 20 }]),
      'data/c.jsonl': jsonl([{ user_id: 3, region: 30 }]),
      'registry.yaml': registryYaml(
        ingestion('every_second', 'data/a.jsonl', '\n    schedule: "* * * * * *"\n    timezone: Asia/Seoul') +
          ingestion('after_a', 'data/b.jsonl', '\n    dependsOn: [every_second]') +
          ingestion('after_b', 'data/c.jsonl', '\n    dependsOn: [after_a, every_second]') +
          ingestion('nightly_kst', 'data/a.jsonl', '\n    schedule: "0 3 * * *"\n    timezone: Asia/Seoul') +
          ingestion('broken', 'data/missing-*.jsonl') +
          ingestion('after_broken', 'data/b.jsonl', '\n    dependsOn: [broken]'),
      ),
    });
    registry = new RegistryHolder(await loadRegistry(registryDir));
    batch = await openBatch({ config: batchConfigFrom({ threads: 2 }), registry, dataDir });
  });

  afterAll(async () => {
    await batch?.close();
    tmp.remove();
  });

  it('a cron tick runs the ingestion and then its downstream DAG in dependency order', async () => {
    let first: DagRun | undefined;
    const scheduler = new BatchScheduler({
      runtime: batch.runtime,
      registry,
      onRun: (name, run) => {
        if (name === 'every_second') first ??= run;
      },
    });
    await scheduler.start();
    try {
      await waitUntil(() => first !== undefined, 10_000, 'the first scheduled run');
    } finally {
      await scheduler.stop();
    }
    const run = first as DagRun;
    expect([...run.jobs.keys()]).toEqual(['every_second', 'after_a', 'after_b']);
    const jobs = await run.settled;
    const byName = new Map(jobs.map((j) => [j.ingestion, j]));
    for (const job of jobs) expect(job.state, job.ingestion).toBe('succeeded');
    expect(byName.get('every_second')?.trigger).toBe('schedule');
    expect(byName.get('after_a')?.trigger).toBe('dag');
    expect(new Set(jobs.map((j) => j.runId))).toEqual(new Set([run.runId]));
    // Each job started only after everything it depends on had finished.
    const a = byName.get('every_second');
    const b = byName.get('after_a');
    const c = byName.get('after_b');
    expect(b?.startedAt).toBeGreaterThanOrEqual(a?.finishedAt ?? Infinity);
    expect(c?.startedAt).toBeGreaterThanOrEqual(b?.finishedAt ?? Infinity);
    const { regions } = await readUsers(dataDir, [1, 2, 3]);
    expect(regions.map((r) => r?.value)).toEqual([10, 20, 30]);
  });

  it('computes the next run of a cron in its time zone', async () => {
    const scheduler = new BatchScheduler({ runtime: batch.runtime, registry });
    await scheduler.start();
    const nightly = scheduler.nextRuns().find((r) => r.ingestion === 'nightly_kst');
    await scheduler.stop();
    const next = nightly?.next;
    expect(next).toBeInstanceOf(Date);
    // 03:00 in Seoul (UTC+9, no DST) is 18:00 UTC.
    expect(next?.getUTCHours()).toBe(18);
    expect(next?.getUTCMinutes()).toBe(0);
    expect((next?.getTime() ?? 0) - Date.now()).toBeLessThanOrEqual(86_400_000);
  });

  it('fails the downstream of a failed job with LARDER_ERR_BATCH_UPSTREAM, without running it', async () => {
    const run = await startDagRun(batch.runtime, registry.current, 'broken', { trigger: 'backfill' });
    const jobs = await run.settled;
    const byName = new Map(jobs.map((j) => [j.ingestion, j]));
    expect(byName.get('broken')?.state).toBe('failed');
    expect(byName.get('broken')?.failure?.code).toBe('LARDER_ERR_BATCH_SOURCE');
    expect(byName.get('after_broken')).toMatchObject({
      state: 'failed',
      failure: { code: 'LARDER_ERR_BATCH_UPSTREAM' },
      startedAt: undefined,
      plan: undefined,
    });
  });

  it('a tick seen twice (two schedulers) makes one set of jobs', async () => {
    const one = await startDagRun(batch.runtime, registry.current, 'after_a', {
      trigger: 'schedule',
      dedupeKey: 'tick-1',
    });
    const two = await startDagRun(batch.runtime, registry.current, 'after_a', {
      trigger: 'schedule',
      dedupeKey: 'tick-1',
    });
    expect([...two.jobs.values()]).toEqual([...one.jobs.values()]);
    const jobs = await one.settled;
    await two.settled;
    expect(jobs.map((j) => j.state)).toEqual(['succeeded', 'succeeded']);
    const runs = await batch.runtime.jobs.listJobs({ ingestion: 'after_b', limit: 100 });
    expect(runs.filter((j) => j.runId === one.runId)).toHaveLength(1);
  });
});
