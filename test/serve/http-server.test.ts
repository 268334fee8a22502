import { afterEach, describe, expect, it } from 'vitest';
import type { Registry } from '../../src/registry/types.ts';
import { marketplaceRegistry } from './marketplace-registry.ts';
import { binding, entity, feature, field, registry, stream } from '../support/registry-builder.ts';
import { capturingLogger, startServeFixture, type ServeFixture } from './serve-fixture.ts';

let fx: ServeFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function listen(f: ServeFixture): Promise<string> {
  await f.app.listen({ port: 0, host: '127.0.0.1' });
  const address = f.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

/** A registry fed by HTTP push: one stream, a static and an action feature. */
function pushRegistry(): Registry {
  return registry({
    entities: [entity('user', { prefix: 'u:', idType: 'int', idField: 'user_id' })],
    features: [
      feature('user', 'os', {
        events: [binding('app', 'session', { subTopic: 'app_open', fields: [field('device.os', 'string')] })],
      }),
      feature('user', 'recent_clicks', {
        featureType: 'action',
        maxCount: 10,
        events: [
          binding('app', 'session', { subTopic: 'click', fields: [field('params.article_id', 'int')] }),
        ],
      }),
    ],
    streams: [stream('app', { subTopicField: 'name', timestampField: 'ts', eventIdField: 'event_id' })],
  });
}

describe('over a real port', () => {
  it('answers /healthz and /readyz, and /readyz turns 503 when the store goes away', async () => {
    const f = (fx = await startServeFixture(marketplaceRegistry({ version: 'v-health' })));
    const base = await listen(f);

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', registryVersion: 'v-health' });

    await f.store.close();
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({
      code: 'LARDER_ERR_NOT_READY',
      store: false,
      registry: true,
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('ingests pushed events and serves them through GraphQL', async () => {
    const f = (fx = await startServeFixture(pushRegistry()));
    const base = await listen(f);
    const t0 = Date.now() - 60_000;
    const events = [
      { event_id: 'e1', name: 'app_open', user_id: 7, ts: t0, device: { os: 'ios' } },
      { event_id: 'e2', name: 'click', user_id: 7, ts: t0 + 1000, params: { article_id: 11 } },
      { event_id: 'e3', name: 'click', user_id: '7', ts: t0 + 2000, params: { article_id: '12' } },
      { event_id: 'e3', name: 'click', user_id: 7, ts: t0 + 2000, params: { article_id: 12 } },
      { event_id: 'e4', name: 'app_open', user_id: 8, ts: t0, device: { os: 'android' } },
    ];
    const push = await fetch(`${base}/v1/streams/app/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    const pushed = await push.clone().text();
    expect(push.status, pushed).toBe(200);
    expect(await push.json()).toMatchObject({ accepted: 5, rejected: 0 });

    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `query ($ids: [ID!]!) { users(ids: $ids) { id os recent_clicks { article_id timestamp } } }`,
        variables: { ids: ['7', '8', '9'] },
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      data: {
        users: [
          {
            id: '7',
            os: 'ios',
            // The redelivered e3 rewrote its row instead of adding one.
            recent_clicks: [
              { article_id: 12, timestamp: t0 + 2000 },
              { article_id: 11, timestamp: t0 + 1000 },
            ],
          },
          { id: '8', os: 'android', recent_clicks: [] },
          { id: '9', os: null, recent_clicks: [] },
        ],
      },
    });
  });

  it('refuses a body over the limit with LARDER_ERR_REQUEST_TOO_LARGE', async () => {
    const f = (fx = await startServeFixture(marketplaceRegistry(), { bodyLimit: 2048 }));
    const base = await listen(f);
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ user(id: 1) { os } }`, padding: 'x'.repeat(4096) }),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('LARDER_ERR_REQUEST_TOO_LARGE');
  });

  it('accepts a pino instance as its logger, as the CLI passes it', async () => {
    const log = capturingLogger();
    const f = (fx = await startServeFixture(marketplaceRegistry(), { logger: log.logger }));
    f.store.failNext = new Error('boom');
    const res = await f.app.inject({
      method: 'POST',
      url: '/graphql',
      payload: { query: '{ user(id: 1) { os } }' },
    });
    expect(res.json()).toMatchObject({ errors: [{ extensions: { code: 'LARDER_ERR_INTERNAL' } }] });
    // The internal failure is logged with its details through the given logger, not sent.
    const logged = log.lines.find((l) => l['msg'] === 'graphql request failed');
    expect((logged?.['err'] as { message?: string } | undefined)?.message).toBe('boom');
  });
});
