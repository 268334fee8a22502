import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';

const REGISTRY = {
  'entities.yaml': `
entities:
  user: {prefix: "u:", idType: int, idField: user_id}
streams:
  ev: {source: http, subTopicField: name, timestampField: ts, eventIdField: event_id}
`,
  'user.yaml': `
features:
  user:
    tier:
      events: [{streamName: ev, topic: t, subTopic: tier, fields: [{name: tier, type: string}]}]
    visits:
      featureType: action
      maxCount: 20
      events: [{streamName: ev, topic: t, subTopic: visit, fields: [{name: article_id, type: int}]}]
`,
};

const QUERY = '{ user(id: 1) { tier visits(input: {count: 3}) { article_id } } }';

/** One request on a fresh connection, so the cluster may hand it to either worker. */
function request(
  port: number,
  method: string,
  url: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: url,
        method,
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * `larder serve --workers 2` with the hot caches at a one-minute TTL: a write pushed to one worker
 * is dropped from the other worker's hot caches too (relayed by the primary), so within moments
 * (not a minute) every worker answers it.
 */
describe('hot caches across workers', () => {
  const tmp = tempDir('larder-hot-workers-');
  let server: LarderProcess;
  let port = 0;
  const push = async (events: Record<string, unknown>[]): Promise<void> => {
    const res = await request(port, 'POST', '/v1/streams/ev/t', JSON.stringify(events));
    expect(res.status).toBe(200);
  };
  const answers = async (n: number): Promise<unknown[]> => {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const res = await request(port, 'POST', '/graphql', JSON.stringify({ query: QUERY }));
      out.push((JSON.parse(res.text) as { data: unknown }).data);
    }
    return out;
  };
  const workersSeen = async (): Promise<number> => {
    const ids = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const res = await request(port, 'GET', '/healthz');
      ids.add((JSON.parse(res.text) as { worker?: number }).worker ?? 0);
    }
    return ids.size;
  };

  beforeAll(async () => {
    const registry = path.join(tmp.dir, 'registry');
    mkdirSync(registry, { recursive: true });
    for (const [file, text] of Object.entries(REGISTRY)) writeFileSync(path.join(registry, file), text);
    port = await freePort();
    server = startLarder(
      [
        'serve',
        '--registry',
        registry,
        '--data',
        path.join(tmp.dir, 'data'),
        '--port',
        String(port),
        '--workers',
        '2',
      ],
      { LARDER_HOT_ENTITY_TTL: '60s' },
    );
    await waitUntil(async () => (await workersSeen().catch(() => 0)) === 2, 30_000, 'both workers to answer');
  });
  afterAll(async () => {
    await server?.stop();
    tmp.remove();
  });

  it('serves a write made through one worker from every worker, long before the TTL', async () => {
    const now = Date.now();
    await push([
      { name: 'tier', event_id: 'a', user_id: 1, ts: now - 2_000, tier: 'silver' },
      { name: 'visit', event_id: 'b', user_id: 1, ts: now - 2_000, article_id: 1 },
    ]);
    const before = { user: { tier: 'silver', visits: [{ article_id: 1 }] } };
    // Both workers hold it in their hot caches now (fresh connections alternate between them).
    for (const answer of await answers(6)) expect(answer).toEqual(before);

    await push([
      { name: 'tier', event_id: 'c', user_id: 1, ts: now, tier: 'gold' },
      { name: 'visit', event_id: 'd', user_id: 1, ts: now, article_id: 2 },
    ]);
    const after = { user: { tier: 'gold', visits: [{ article_id: 2 }, { article_id: 1 }] } };
    // Bounded far below the 60 s TTL: only the relayed invalidation can make this pass.
    await waitUntil(
      async () => (await answers(6)).every((a) => JSON.stringify(a) === JSON.stringify(after)),
      5_000,
      'every worker to answer the write',
    );
    for (const answer of await answers(6)) expect(answer).toEqual(after);
  });
});
