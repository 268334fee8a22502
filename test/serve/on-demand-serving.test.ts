import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../store/manual-clock.ts';
import { single, startTestServer, type TestServer } from './support/test-server.ts';
import { startFakeUpstream, type FakeUpstream } from './support/upstream.ts';

/** On-demand features through the real server, against a real upstream that can be slow, fail or hang. */
describe('on-demand features over GraphQL', () => {
  let upstream: FakeUpstream;
  let server: TestServer;
  // The breakers' clock: the test moves it past `resetMs` instead of waiting.
  const clock = manualClock(Date.now());

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    upstream.slowMs = 2_000;
    server = await startTestServer({ upstreamBase: upstream.base, now: clock.now });
    await server.write([single('u:', 1, 'os', 'ios'), single('c:flea:', 1, 'title', 'Bike')]);
  });
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  it('is typed in the schema like a stored feature', async () => {
    const res = await server.gql(
      '{ __type(name: "User") { fields { name type { name kind ofType { name } } } } }',
    );
    const fields = (res.body.data?.['__type'] as { fields: { name: string; type: unknown }[] }).fields;
    expect(fields.find((f) => f.name === 'blocked_users')?.type).toEqual({
      name: null,
      kind: 'LIST',
      ofType: { name: 'Long' },
    });
  });

  it('serves the upstream value beside stored features', async () => {
    upstream.mode = 'ok';
    const res = await server.gql('{ user(id: 1) { os blocked_users } }');
    expect(res.body).toEqual({ data: { user: { os: 'ios', blocked_users: [10, 11] } } });
  });

  it("batches a request's ids into one upstream call when the url takes {ids}", async () => {
    upstream.mode = 'ok';
    const before = upstream.requests.length;
    const res = await server.gql('{ flea_articles(ids: [1, 2, 3, 2]) { id title view_count } }');
    expect(res.body.data).toEqual({
      flea_articles: [
        { id: '1', title: 'Bike', view_count: 100 },
        { id: '2', title: null, view_count: 200 },
        { id: '3', title: null, view_count: 300 },
        { id: '2', title: null, view_count: 200 },
      ],
    });
    expect(upstream.requests.slice(before).map((r) => r.url)).toEqual(['/views?ids=1,2,3']);
  });

  it('serves the fallback when the upstream fails, hangs or is too slow, then opens the breaker', async () => {
    for (const mode of ['fail', 'hang', 'slow'] as const) {
      upstream.mode = mode;
      const res = await server.gql('{ user(id: 1) { os blocked_users } }');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: { user: { os: 'ios', blocked_users: [] } } });
    }
    // Three failures in a row (breaker.failures: 3): now open, no call goes out.
    const metrics = await server.get('/metrics');
    expect(metrics.text).toMatch(/larder_ondemand_breaker_state\{feature="user.blocked_users"\} 2/);
    upstream.mode = 'ok';
    const before = upstream.requests.length;
    const open = await server.gql('{ user(id: 1) { blocked_users } }');
    expect(open.body).toEqual({ data: { user: { blocked_users: [] } } });
    expect(upstream.requests.length).toBe(before);
    expect((await server.get('/metrics')).text).toMatch(
      /larder_ondemand_duration_seconds_count\{feature="user.blocked_users",outcome="breaker_open"\} 1/,
    );
    // Open until resetMs (400) has passed; then a probe goes out, and its success closes it.
    clock.advance(399);
    const stillOpen = await server.gql('{ user(id: 1) { blocked_users } }');
    expect(stillOpen.body).toEqual({ data: { user: { blocked_users: [] } } });
    expect(upstream.requests.length).toBe(before);
    clock.advance(1);
    const probe = await server.gql('{ user(id: 1) { blocked_users } }');
    expect(probe.body).toEqual({ data: { user: { blocked_users: [10, 11] } } });
    expect(upstream.requests.length).toBe(before + 1);
    expect((await server.get('/metrics')).text).toMatch(
      /larder_ondemand_breaker_state\{feature="user.blocked_users"\} 0/,
    );
  });
});
