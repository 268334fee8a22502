import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIngestor } from '../../src/ingest/ingestor.ts';
import { httpPushPlugin } from '../../src/serve/plugins/http-push.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { binding, entity, feature, field, filter, registry, stream } from '../support/registry-builder.ts';
import { openRealStores, type RealStores } from '../ingest/real-stores.ts';

const URL_PATH = '/v1/streams/client_event/cleansed';

function buildRegistry() {
  return registry({
    entities: [entity('user', { prefix: 'u:', idType: 'int' })],
    streams: [stream('client_event', { subTopicField: 'event_type', eventIdField: 'event_id' })],
    features: [
      feature('user', 'recent_view_articles', {
        featureType: 'action',
        events: [
          binding('client_event', 'cleansed', {
            subTopic: 'view_article_v1',
            filter: [filter('country_code', 'string', 'equal', ['kr'])],
            fields: [field('params.article_id_v1', 'int', { rename: 'article_id' })],
          }),
        ],
      }),
      // A stream only a feature names, never declared.
      feature('user', 'orders', {
        featureType: 'action',
        events: [binding('server_event', 'orders', { fields: [field('order_id', 'int')] })],
      }),
    ],
  });
}

function view(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: `e${n}`,
    event_type: 'view_article_v1',
    user_id: 1,
    country_code: 'kr',
    params: { article_id_v1: 100 + n },
    ...extra,
  };
}

describe('HTTP push source', () => {
  let stores: RealStores;
  let app: FastifyInstance;

  async function buildApp(options: { bodyLimit?: number } = {}): Promise<FastifyInstance> {
    const holder = new RegistryHolder(buildRegistry());
    const ingestor = createIngestor({
      registry: holder,
      store: stores.store,
      deadLetters: stores.deadLetters,
    });
    const instance = Fastify();
    // A route of the host app: the push route's raw-text parsers must not leak into it.
    instance.post('/echo', async (request) => ({ got: request.body }));
    await instance.register(httpPushPlugin, {
      ingest: (events) => ingestor.ingest(events, { origin: 'http' }),
      registry: holder,
      ...options,
    });
    await instance.ready();
    return instance;
  }

  beforeEach(async () => {
    stores = await openRealStores();
    app = await buildApp();
  });
  afterEach(async () => {
    await app.close();
    await stores.close();
  });

  async function articleIds(userId = 1): Promise<unknown[]> {
    const [rows] = await stores.store.getRanges([
      { pk: `u:${userId}#recent_view_articles`, count: 100, lastNSec: undefined },
    ]);
    return (rows ?? []).map((r) => r.values.article_id);
  }

  it('ingests one JSON object and answers once it is durable', async () => {
    const res = await app.inject({ method: 'POST', url: URL_PATH, payload: view(1) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      accepted: 1,
      filtered: 0,
      rejected: 0,
      rejections: [],
      rejectionsByCode: {},
      rejectionsOmitted: 0,
    });
    expect(await articleIds()).toEqual([101]);
  });

  it('ingests a JSON array, counting filtered and rejected events', async () => {
    const res = await app.inject({
      method: 'POST',
      url: URL_PATH,
      payload: [view(1), view(2, { country_code: 'jp' }), view(3, { user_id: 'x' }), 'nope', view(4)],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ accepted: 2, filtered: 1, rejected: 2 });
    expect(body.rejections).toEqual([
      expect.objectContaining({
        index: 2,
        code: 'LARDER_ERR_EVENT_ENTITY_ID',
        feature: 'user.recent_view_articles',
      }),
      expect.objectContaining({ index: 3, code: 'LARDER_ERR_EVENT_NOT_OBJECT' }),
    ]);
    expect(await articleIds()).toEqual([104, 101]);
    expect(await stores.deadLetters.count()).toBe(2);
  });

  it('reads NDJSON line by line: a bad line is rejected alone and dead-lettered raw', async () => {
    const payload = [JSON.stringify(view(1)), '{"user_id": 1, oops', '', JSON.stringify(view(2)), ''].join(
      '\n',
    );
    const res = await app.inject({
      method: 'POST',
      url: URL_PATH,
      headers: { 'content-type': 'application/x-ndjson' },
      payload,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      accepted: 2,
      rejected: 1,
      rejections: [{ index: 1, code: 'LARDER_ERR_EVENT_PARSE' }],
    });
    expect(await articleIds()).toEqual([102, 101]);
    const [letter] = await stores.deadLetters.list();
    expect(letter).toMatchObject({
      code: 'LARDER_ERR_EVENT_PARSE',
      raw: '{"user_id": 1, oops',
      stream: 'client_event',
      topic: 'cleansed',
      origin: 'http',
    });
  });

  it('reads text/plain with several lines as NDJSON, and with one line as JSON', async () => {
    const several = await app.inject({
      method: 'POST',
      url: URL_PATH,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      payload: `${JSON.stringify(view(1))}\r\n${JSON.stringify(view(2))}\r\n`,
    });
    expect(several.json()).toMatchObject({ accepted: 2, rejected: 0 });
    const one = await app.inject({
      method: 'POST',
      url: URL_PATH,
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify(view(3)),
    });
    expect(one.json()).toMatchObject({ accepted: 1 });
    expect(await articleIds()).toEqual([103, 102, 101]);
  });

  it('answers 400 LARDER_ERR_EVENT_PARSE for a body that is not JSON, and dead-letters it raw', async () => {
    const res = await app.inject({
      method: 'POST',
      url: URL_PATH,
      headers: { 'content-type': 'application/json' },
      payload: '{"user_id": 1,\n"broken": ',
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ code: 'LARDER_ERR_EVENT_PARSE', accepted: 0, filtered: 0, rejected: 1 });
    expect(typeof body.hint).toBe('string');
    expect(body.stack).toBeUndefined();
    const [letter] = await stores.deadLetters.list();
    expect(letter?.raw).toBe('{"user_id": 1,\n"broken": ');
  });

  it('answers 404 LARDER_ERR_UNKNOWN_STREAM for a stream nobody declares or reads', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/streams/nope/cleansed', payload: view(1) });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      code: 'LARDER_ERR_UNKNOWN_STREAM',
      message: expect.stringContaining('"nope"'),
      hint: expect.any(String),
    });
    expect(await stores.deadLetters.count()).toBe(0);
  });

  it('accepts a stream that only a feature names', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/streams/server_event/orders',
      payload: { user_id: 3, order_id: '9' },
    });
    expect(res.json()).toMatchObject({ accepted: 1 });
    const [rows] = await stores.store.getRanges([{ pk: 'u:3#orders', count: 10, lastNSec: undefined }]);
    expect(rows?.[0]?.values).toEqual({ order_id: 9 });
  });

  it('answers 413 LARDER_ERR_EVENT_TOO_LARGE above the body limit', async () => {
    await app.close();
    app = await buildApp({ bodyLimit: 1024 });
    const big = Array.from({ length: 50 }, (_, i) => view(i));
    const res = await app.inject({ method: 'POST', url: URL_PATH, payload: big });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'LARDER_ERR_EVENT_TOO_LARGE', hint: expect.any(String) });
    expect(await articleIds()).toEqual([]);
  });

  it('answers 503 when the store is down, so the client retries', async () => {
    await stores.store.close();
    const res = await app.inject({ method: 'POST', url: URL_PATH, payload: view(1) });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toMatch(/^LARDER_ERR_STORE_/);
    expect(res.body).not.toContain('    at ');
  });

  it("leaves the host app's JSON parser alone", async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
    expect(res.json()).toEqual({ got: { a: 1 } });
  });

  it('serves over a real port', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${address}${URL_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify(view(1))}\n${JSON.stringify(view(2))}\n`,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 2 });
    expect(await articleIds()).toEqual([102, 101]);
  });
});
