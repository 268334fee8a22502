import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { JobTracker } from '../../src/ingest/batch/jobs/job-tracker.ts';
import { LmdbJobStore } from '../../src/ingest/batch/jobs/lmdb-job-store.ts';
import type { JobState } from '../../src/ingest/batch/jobs/job-types.ts';
import { openRuntime, type Runtime } from '../../src/runtime/open-runtime.ts';
import type {
  DeadLetterList,
  FeatureCatalog,
  FeatureDetail,
  JobDetail,
  JobList,
  RegistryStatusView,
  ReplayReport,
} from '../../src/serve/admin/admin-types.ts';
import { createServer } from '../../src/serve/server.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * The admin API against a real runtime (LMDB in a temp dir, the registry loaded from YAML, the job
 * store of the data directory) at the size the console must stay responsive at: 2,000 feature
 * groups and 10,000 jobs, searched and paged on the server. With auth on: reads need a read key,
 * actions an admin key.
 */
const READ = 'read-key-0123456789abcdef';
const ADMIN = 'admin-key-0123456789abcdef';
const ENTITIES = ['user', 'item', 'shop', 'region', 'seller'];
const FEATURES = 2_000;
const JOBS = 10_000;

function generatedRegistry(dir: string): void {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  writeFileSync(path.join(dir, 'data', 'rows.jsonl'), '{"user_id": 1, "f0": 1}\n');
  const lines = ['streams:', '  ev: {source: http}', 'features:'];
  const perEntity = FEATURES / ENTITIES.length;
  for (const entity of ENTITIES) {
    lines.push(`  ${entity}:`);
    for (let i = 0; i < perEntity; i++) {
      const action = i % 4 === 0;
      lines.push(
        `    f${i}:`,
        `      featureType: ${action ? 'action' : 'static'}`,
        `      owner: team-${i % 10}`,
        `      tags: [t${i % 7}${i % 50 === 0 ? ', flagship' : ''}]`,
        `      description: generated feature ${i} of ${entity}`,
        `      events: [{streamName: ev, topic: topic-${i % 20}, fields: [{name: v${i}, type: ${action ? 'int' : 'string'}}]}]`,
      );
    }
  }
  lines.push(
    'ingestions:',
    '  load_a: {source: {format: jsonl, path: data/rows.jsonl}, feature: user.f1, entityIdField: user_id, fields: [{name: f0, rename: v1, type: string}]}',
    '  load_b: {source: {format: jsonl, path: data/rows.jsonl}, feature: user.f2, entityIdField: user_id, dependsOn: [load_a], fields: [{name: f0, rename: v2, type: string}]}',
  );
  writeFileSync(path.join(dir, 'registry.yaml'), `${lines.join('\n')}\n`);
}

describe('admin API at scale (2,000 feature groups, 10,000 jobs)', () => {
  const tmp = tempDir('larder-admin-');
  const registryDir = path.join(tmp.dir, 'registry');
  let runtime: Runtime;
  let app: FastifyInstance;
  const createdStates = new Map<JobState, number>();

  const get = async <T>(url: string, key = READ): Promise<{ status: number; body: T; ms: number }> => {
    const start = performance.now();
    const res = await app.inject({ url, headers: { authorization: `Bearer ${key}` } });
    return { status: res.statusCode, body: res.json<T>(), ms: performance.now() - start };
  };

  beforeAll(async () => {
    generatedRegistry(registryDir);
    runtime = await openRuntime({
      registryDir,
      dataDir: path.join(tmp.dir, 'data'),
      logger: pino({ level: 'silent' }),
      config: loadConfig(undefined, {}),
      watch: false,
    });
    app = await createServer(runtime.ctx, {
      logger: pino({ level: 'silent' }),
      admin: runtime.admin,
      auth: { enabled: true, readKeys: [READ], ingestKeys: [], adminKeys: [ADMIN], publicMetrics: false },
    });
    // 10,000 jobs in the data directory's job store, one clock tick apart (ids sort by creation).
    let at = 1_760_000_000_000;
    const tracker = new JobTracker(new LmdbJobStore(runtime.lmdbEnv), () => at++);
    const spec = {
      ingestion: runtime.ctx.registry.current.ingestions.get('load_a')!,
      feature: runtime.ctx.registry.current.featuresByEntity.get('user')!.get('f1')!,
      entity: runtime.ctx.registry.current.entities.get('user')!,
      from: undefined,
      to: undefined,
    };
    const states: JobState[] = ['succeeded', 'succeeded', 'succeeded', 'failed', 'cancelled', 'queued'];
    for (let i = 0; i < JOBS; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, JOBS - i) }, async (_, k) => {
          const job = await tracker.create({ spec, trigger: 'backfill', mode: 'embedded' });
          const state = states[(i + k) % states.length]!;
          createdStates.set(state, (createdStates.get(state) ?? 0) + 1);
          if (state !== 'queued') await tracker.store.updateJob(job.id, (j) => ({ ...j, state }));
        }),
      );
    }
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await runtime?.close();
    tmp.remove();
  });

  it('searches the catalog on the server: words, dimension:value terms, filters, facets, pages', async () => {
    const all = await get<FeatureCatalog>('/v1/admin/features?limit=50');
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(FEATURES);
    expect(all.body.items).toHaveLength(50);
    expect(all.body.facets.entity.map((f) => [f.value, f.count]).sort()).toEqual(
      ENTITIES.map((e) => [e, FEATURES / ENTITIES.length]).sort(),
    );
    const page2 = await get<FeatureCatalog>(`/v1/admin/features?limit=50&offset=${all.body.next}`);
    expect(page2.body.items[0]?.name).not.toBe(all.body.items[0]?.name);

    const byName = await get<FeatureCatalog>('/v1/admin/features?q=shop.f123');
    expect(byName.body.items.map((f) => `${f.entity}.${f.name}`)).toEqual(['shop.f123']);
    // Flagship features are every 50th (so all of team-0): 8 of each entity's 400.
    const owned = await get<FeatureCatalog>('/v1/admin/features?q=owner:team-0%20tag:flagship&entity=item');
    expect(owned.body.total).toBe(8);
    expect(
      owned.body.items.every(
        (f) => f.owner === 'team-0' && f.tags.includes('flagship') && f.entity === 'item',
      ),
    ).toBe(true);
    expect((await get<FeatureCatalog>('/v1/admin/features?q=owner:team-3%20tag:flagship')).body.total).toBe(
      0,
    );
  });

  it('answers catalog searches fast enough for typing (median under 100 ms at 2,000 groups)', async () => {
    const times: number[] = [];
    for (const q of ['f1', 'generated', 'topic-7', 'owner:team-2', 'string', 'zzz', 'item f3', 't4']) {
      times.push((await get<FeatureCatalog>(`/v1/admin/features?q=${encodeURIComponent(q)}&limit=50`)).ms);
    }
    times.sort((a, b) => a - b);
    expect(times[Math.floor(times.length / 2)]).toBeLessThan(100);
  });

  it('shows a feature: the spec as written at its file and line, types, sources, a ready query', async () => {
    const { status, body } = await get<FeatureDetail>('/v1/admin/features/item/f8');
    expect(status).toBe(200);
    expect(body.at.file).toBe('registry.yaml');
    expect(body.specText?.split('\n')[0]).toBe('    f8:');
    expect(body.specText).toContain('owner: team-8');
    expect(body.summary.featureType).toBe('action');
    expect(body.graphqlTypes).toMatch(/f8\(input: ActionFeatureInput\): \[ItemF8Row!\]!/);
    expect(body.sources[0]).toMatchObject({ kind: 'stream', name: 'ev/topic-8', via: 'http' });
    expect(body.query.graphql).toContain('item(id: $id)');
    expect(body.query.curl).toContain('authorization: Bearer $API_KEY');
    const fed = await get<FeatureDetail>('/v1/admin/features/user/f2');
    expect(fed.body.sources.map((s) => s.kind)).toContain('ingestion');
    expect((await get('/v1/admin/features/user/nope')).status).toBe(404);
  });

  it('pages 10,000 jobs newest first by cursor, with counts per state, filters and search', async () => {
    const first = await get<JobList>('/v1/admin/jobs?limit=50');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(50);
    const total = Object.values(first.body.counts).reduce((a, b) => a + b, 0);
    expect(total).toBe(JOBS);
    expect(first.body.counts.failed).toBe(createdStates.get('failed'));
    const created = first.body.items.map((j) => j.createdAt);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    const second = await get<JobList>(`/v1/admin/jobs?limit=50&before=${first.body.next}`);
    expect(second.body.items).toHaveLength(50);
    expect(second.body.items[0]!.createdAt).toBeLessThan(created.at(-1)!);

    const failed = await get<JobList>('/v1/admin/jobs?state=failed&limit=20');
    expect(failed.body.items.every((j) => j.state === 'failed')).toBe(true);
    const id = failed.body.items[3]!.id;
    const found = await get<JobList>(`/v1/admin/jobs?q=${id}`);
    expect(found.body.items.map((j) => j.id)).toEqual([id]);
    expect((await get('/v1/admin/jobs?state=bogus')).status).toBe(400);

    // Responsive at this size: a page (the per-state counts are cached between polls).
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push((await get<JobList>('/v1/admin/jobs?limit=50')).ms);
    times.sort((a, b) => a - b);
    expect(times[2]).toBeLessThan(250);
  });

  it('shows one job with its DAG, and only an admin key may cancel it', async () => {
    const queued = (await get<JobList>('/v1/admin/jobs?state=queued&limit=1')).body.items[0]!;
    const detail = await get<JobDetail>(`/v1/admin/jobs/${queued.id}`);
    expect(detail.body.canCancel).toBe(true);
    expect(detail.body.dag.nodes.map((n) => n.ingestion).sort()).toEqual(['load_a', 'load_b']);
    expect(detail.body.dag.edges).toEqual([['load_a', 'load_b']]);
    const asReader = await app.inject({
      method: 'POST',
      url: `/v1/admin/jobs/${queued.id}/cancel`,
      headers: { authorization: `Bearer ${READ}` },
    });
    expect(asReader.statusCode).toBe(403);
    const noKey = await app.inject({ url: '/v1/admin/jobs' });
    expect(noKey.statusCode).toBe(401);
    const asAdmin = await app.inject({
      method: 'POST',
      url: `/v1/admin/jobs/${queued.id}/cancel`,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(asAdmin.statusCode).toBe(200);
    expect(asAdmin.json<{ state: string }>().state).toBe('cancelled');
    const again = await app.inject({
      method: 'POST',
      url: `/v1/admin/jobs/${queued.id}/cancel`,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(again.json<{ code: string }>().code).toBe('LARDER_ERR_BATCH_JOB_STATE');
  });

  it('filters dead letters by stream, code and feature, and replays a filtered set (admin only)', async () => {
    await runtime.ctx.ingest([
      { stream: 'ev', topic: 'topic-1', body: { user_id: 1 }, receivedAt: Date.now() }, // missing fields
      { stream: 'ev', topic: 'topic-2', body: 'not an object', receivedAt: Date.now() },
      { stream: 'nope', topic: 'x', body: { a: 1 }, receivedAt: Date.now() },
    ]);
    const all = await get<DeadLetterList>('/v1/admin/dlq');
    expect(all.body.inTable).toBeGreaterThanOrEqual(2);
    const codes = all.body.facets.code.map((f) => f.value);
    expect(codes).toContain('LARDER_ERR_EVENT_NOT_OBJECT');
    const notObject = await get<DeadLetterList>('/v1/admin/dlq?code=LARDER_ERR_EVENT_NOT_OBJECT');
    expect(notObject.body.items.map((d) => d.topic)).toEqual(['topic-2']);
    const one = await get<{ body: unknown; reason: string }>(`/v1/admin/dlq/${notObject.body.items[0]!.id}`);
    expect(one.body.body).toBe('not an object');

    const replayAs = (key: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/admin/dlq/replay',
        headers: { authorization: `Bearer ${key}` },
        payload: { filter: { code: 'LARDER_ERR_EVENT_NOT_OBJECT' } },
      });
    expect((await replayAs(READ)).statusCode).toBe(403);
    const replayed = await replayAs(ADMIN);
    expect(replayed.json<ReplayReport>()).toEqual({ replayed: 1, accepted: 0, filtered: 0, rejected: 1 });
    // Rejected again: dead-lettered anew under a new id, the old entry gone.
    const after = await get<DeadLetterList>('/v1/admin/dlq?code=LARDER_ERR_EVENT_NOT_OBJECT');
    expect(after.body.items).toHaveLength(1);
    expect(after.body.items[0]!.id).not.toBe(notObject.body.items[0]!.id);
  });

  it('reports the registry in force', async () => {
    const { body } = await get<RegistryStatusView>('/v1/admin/registry');
    expect(body.version).toBe(runtime.ctx.registry.current.version);
    expect(body.counts).toEqual({ entities: 5, streams: 1, features: FEATURES, ingestions: 2 });
    expect(body.appliedAt).toBeGreaterThan(0);
    expect(body.lastRefused).toBeNull();
  });
});
