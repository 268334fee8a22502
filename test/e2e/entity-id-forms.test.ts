import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { waitUntil } from '../support/wait-until.ts';
import { tempDir } from '../support/temp-dir.ts';
import { serveArgs } from './support.ts';

/**
 * One key form for entity ids (`entityIdKey`): an id written through any source, spelled any way
 * its type allows, reads back through GraphQL, REST and a join. `user` ids are ints, written as
 * " 007" (HTTP push), "+7" (a Redis stream, through the real consumer) and "0007" (a batch JSONL
 * file) and read as "7", "+7", " 007" and 7. `article` ids are strings, kept exactly as given:
 * "007" is not "7".
 */
describe(
  'entity ids written through every source read back through every reader',
  { timeout: 120_000 },
  () => {
    const tmp = tempDir('larder-id-forms-');
    const topic = `larder-test-${randomUUID()}`;
    const redis = new Redis('redis://127.0.0.1:6379');
    let server: LarderProcess;
    let base = '';

    async function post(
      url: string,
      body: unknown,
    ): Promise<{ status: number; body: Record<string, unknown> }> {
      const res = await fetch(`${base}${url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }

    const graphql = async (query: string) => (await post('/graphql', { query })).body;

    beforeAll(async () => {
      const registryDir = path.join(tmp.dir, 'registry');
      mkdirSync(path.join(registryDir, 'users'), { recursive: true });
      mkdirSync(path.join(registryDir, 'articles'), { recursive: true });
      writeFileSync(path.join(registryDir, 'users', 'u.jsonl'), '{"user_id": "0007", "v": "batch"}\n');
      writeFileSync(path.join(registryDir, 'articles', 'a.jsonl'), '{"article_id": "007", "v": "batch"}\n');
      const pushed = (entity: string) => [
        `    pushed: {events: [{streamName: web, topic: profile, fields: [{name: v, type: string}]}]}`,
        `    streamed: {events: [{streamName: ev, topic: "${topic}", fields: [{name: v, type: string}]}]}`,
        `    loaded: {description: fed by the ${entity} ingestion}`,
      ];
      const ingestion = (name: string, entity: string, dir: string) => [
        `  ${name}:`,
        `    source: {format: jsonl, path: "${dir}/*.jsonl"}`,
        `    feature: ${entity}.loaded`,
        '    fields: [{name: v, type: string}]',
        '    schedule: "*/2 * * * * *"',
      ];
      writeFileSync(
        path.join(registryDir, 'r.yaml'),
        [
          'entities: {user: {idType: int}, article: {idType: string}}',
          'streams:',
          '  web: {source: http}',
          '  ev: {source: redis, connection: {url: "redis://127.0.0.1:6379"}, eventIdField: id}',
          'features:',
          '  user:',
          ...pushed('user'),
          '    views:',
          '      featureType: action',
          '      events: [{streamName: web, topic: views, fields: [{name: article_ref, type: string}]}]',
          '      join: {field: article_ref, entity: article, as: article}',
          '  article:',
          ...pushed('article'),
          '    viewers:',
          '      featureType: action',
          '      events: [{streamName: web, topic: viewers, fields: [{name: viewer_ref, type: string}]}]',
          '      join: {field: viewer_ref, entity: user, as: viewer}',
          'ingestions:',
          ...ingestion('user_loaded', 'user', 'users'),
          ...ingestion('article_loaded', 'article', 'articles'),
          '',
        ].join('\n'),
      );
      await redis.xadd(
        topic,
        '*',
        'data',
        JSON.stringify({ id: 'r1', user_id: '+7', article_id: '007', v: 'redis' }),
      );

      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      server = startLarder(serveArgs(registryDir, path.join(tmp.dir, 'data'), port));
      await waitUntil(async () => (await fetch(`${base}/readyz`)).ok, 60_000, `readyz\n${server.output()}`);

      const now = Date.now();
      const push = async (topicName: string, event: Record<string, unknown>) => {
        const res = await post(`/v1/streams/web/${topicName}`, event);
        expect(res.body).toMatchObject({ accepted: 1, rejected: 0 });
      };
      await push('profile', { user_id: ' 007', article_id: '007', v: 'push' });
      await push('views', { user_id: 7, article_ref: '007', ts: now });
      await push('viewers', { article_id: '007', viewer_ref: ' +007', ts: now });

      // The consumer and the scheduled ingestions write in the background; wait for both.
      await waitUntil(
        async () => {
          const data = (
            await graphql('{ user(id: "7") { streamed loaded } article(id: "007") { streamed loaded } }')
          ).data as Record<string, Record<string, unknown> | null> | undefined;
          return (
            data?.user?.streamed === 'redis' &&
            data.user.loaded === 'batch' &&
            data.article?.streamed === 'redis' &&
            data.article.loaded === 'batch'
          );
        },
        90_000,
        `the Redis stream and the batch ingestions to land\n${server.output().slice(-2000)}`,
      );
    });

    afterAll(async () => {
      await server?.stop();
      await redis.del(topic);
      const keys = await redis.keys(`${topic}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      tmp.remove();
    });

    const everySource = { pushed: 'push', streamed: 'redis', loaded: 'batch' };

    it('GraphQL reads an int id in any spelling, and a string id exactly as written', async () => {
      const result = await graphql(`
        {
          a: user(id: "7") {
            id
            pushed
            streamed
            loaded
          }
          b: user(id: "+7") {
            id
            pushed
            streamed
            loaded
          }
          c: users(ids: [" 007", 7]) {
            id
            pushed
            streamed
            loaded
          }
          d: article(id: "007") {
            id
            pushed
            streamed
            loaded
          }
          e: article(id: "7") {
            id
            pushed
            streamed
            loaded
          }
        }
      `);
      expect(result.errors).toBeUndefined();
      const user = { id: '7', ...everySource };
      expect(result.data).toEqual({
        a: user,
        b: user,
        c: [user, user],
        d: { id: '007', ...everySource },
        e: { id: '7', pushed: null, streamed: null, loaded: null },
      });
    });

    it('REST reads the same values for every spelling of the id', async () => {
      const features = [{ name: 'pushed' }, { name: 'streamed' }, { name: 'loaded' }];
      const users = await post('/v1/features', { entity: 'user', ids: [' 007', '+7', 7], features });
      expect(users.status).toBe(200);
      const results = users.body.results as { features: unknown }[];
      expect(results.map((r) => r.features)).toEqual([everySource, everySource, everySource]);
      const articles = await post('/v1/features', { entity: 'article', ids: ['007', '7'], features });
      expect((articles.body.results as { features: unknown }[]).map((r) => r.features)).toEqual([
        everySource,
        { pushed: null, streamed: null, loaded: null },
      ]);
    });

    it('a join finds the entity whatever spelling the row holds', async () => {
      const result = await graphql(`
        {
          user(id: "0007") {
            views {
              article_ref
              article {
                id
                pushed
                streamed
                loaded
              }
            }
          }
          article(id: "007") {
            viewers {
              viewer_ref
              viewer {
                id
                pushed
                streamed
                loaded
              }
            }
          }
        }
      `);
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({
        user: { views: [{ article_ref: '007', article: { id: '007', ...everySource } }] },
        article: { viewers: [{ viewer_ref: ' +007', viewer: { id: '7', ...everySource } }] },
      });
    });

    it('refuses an id that is no int of any spelling', async () => {
      const result = await graphql('{ user(id: "7a") { pushed } }');
      expect((result.errors as { extensions: { code: string } }[])[0]?.extensions.code).toBe(
        'LARDER_ERR_BAD_ARGUMENT',
      );
    });
  },
);
