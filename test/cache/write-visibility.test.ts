import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { row, single, startTestServer, type TestServer } from '../serve/support/test-server.ts';

/**
 * A write made through the serving process is visible to the very next request, through every
 * cache level it passes: the fast path's kept texts, the hot entity and hot row caches, the
 * in-process cache level and, in distributed mode, the Redis level. The hot caches live a minute
 * here, and a repeat read is first shown to reach no store at all, so only the invalidation
 * (not a TTL, not a bypass) can make the write visible. Both answer paths are checked: the
 * compiled fast path, and the full executor (a fragment is not covered by the fast path).
 */

const REDIS_URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const CACHED = `
features:
  user:
    tier:
      cache: {levels: [local, redis], ttl: 1h}
      events: [{streamName: ev, topic: t, subTopic: tier, fields: [{name: tier, type: string}]}]
    visits:
      featureType: action
      maxCount: 20
      cache: {levels: [local, redis], ttl: 1h}
      join: {field: article_id, entity: flea_article, as: article}
      events: [{streamName: ev, topic: t, subTopic: visit, fields: [{name: article_id, type: int}]}]
  flea_article:
    name:
      cache: {levels: [local, redis], ttl: 1h}
      events: [{streamName: ev, topic: cdc, fields: [{name: name, type: string}]}]
`;

const FAST = '{ user(id: 1) { tier visits(input: {count: 5}) { article_id article { name } } } }';
const FULL =
  '{ user(id: 1) { ...U } } fragment U on User { tier visits(input: {count: 5}) { article_id article { name } } }';

async function fastPathAnswers(server: TestServer): Promise<number> {
  const metrics = (await server.get('/metrics')).text;
  const match = /larder_graphql_fast_path_total\{outcome="answered"\} (\d+)/.exec(metrics);
  return match === null ? 0 : Number(match[1]);
}

function visibility(mode: string, redis: boolean): void {
  describe(`a write is visible to the next request (${mode})`, () => {
    let server: TestServer;
    /** Distributed: a second server on the same Redis, with a store of its own that stays empty. */
    let replica: TestServer | undefined;
    const now = Date.now();
    beforeAll(async () => {
      const options = {
        extraRegistryFiles: { 'cached.yaml': CACHED },
        layered: true,
        hotEntityTtlMs: 60_000,
        ...(redis ? { redis: { url: REDIS_URL, namespace: `larder-vis-${process.pid}-${now}:` } } : {}),
      };
      server = await startTestServer(options);
      if (redis) replica = await startTestServer(options);
      await server.write([
        single('u:', 1, 'tier', 'silver', now - 10_000),
        single('c:flea:', 1, 'name', 'Lamp', now - 10_000),
        row('u:', 1, 'visits', now - 10_000, { article_id: 1 }),
      ]);
    });
    afterAll(async () => {
      await server.close();
      await replica?.close();
    });

    it('after the reads filled every level, on the fast path and the full executor', async () => {
      const before = {
        user: { tier: 'silver', visits: [{ article_id: 1, article: { name: 'Lamp' } }] },
      };
      for (let pass = 0; pass < 2; pass++) {
        expect((await server.gql(FAST)).body.data).toEqual(before);
        expect((await server.gql(FULL)).body.data).toEqual(before);
      }
      // Filled: a repeat reaches no store.
      server.store.reset();
      const answered = await fastPathAnswers(server);
      expect((await server.gql(FAST)).body.data).toEqual(before);
      expect((await server.gql(FULL)).body.data).toEqual(before);
      expect(server.store.staticCalls).toEqual([]);
      expect(server.store.rangeCalls).toEqual([]);
      expect(await fastPathAnswers(server)).toBe(answered + 1);

      await server.write([
        single('u:', 1, 'tier', 'gold', now),
        single('c:flea:', 1, 'name', 'Red lamp', now),
        single('c:flea:', 2, 'name', 'Desk', now),
        row('u:', 1, 'visits', now, { article_id: 2 }),
      ]);
      const after = {
        user: {
          tier: 'gold',
          visits: [
            { article_id: 2, article: { name: 'Desk' } },
            { article_id: 1, article: { name: 'Red lamp' } },
          ],
        },
      };
      expect((await server.gql(FAST)).body.data).toEqual(after);
      expect((await server.gql(FULL)).body.data).toEqual(after);
      expect(await fastPathAnswers(server)).toBe(answered + 2);
    });

    it('after a joined entity alone changed (kept row and list texts hold its old text)', async () => {
      await server.gql(FAST);
      await server.gql(FAST);
      await server.write([single('c:flea:', 2, 'name', 'Standing desk', now + 1)]);
      const visits = (await server.gql(FAST)).body.data?.['user'] as { visits: unknown[] };
      expect(visits.visits[0]).toEqual({ article_id: 2, article: { name: 'Standing desk' } });
    });

    if (redis) {
      it('to another server whose in-process level is cold: Redis holds the write', async () => {
        // The replica's own store is empty: every value it serves comes from Redis.
        expect((await replica!.gql(FAST)).body.data).toEqual({
          user: {
            tier: 'gold',
            visits: [
              { article_id: 2, article: { name: 'Standing desk' } },
              { article_id: 1, article: { name: 'Red lamp' } },
            ],
          },
        });
      });
    }
  });
}

visibility('embedded: in-process level', false);
visibility('distributed: in-process and Redis levels', true);
