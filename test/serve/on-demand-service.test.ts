import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CircuitBreaker } from '../../src/serve/on-demand/circuit-breaker.ts';
import { OnDemandLoader } from '../../src/serve/on-demand/on-demand-loader.ts';
import { OnDemandService, type OnDemandOutcome } from '../../src/serve/on-demand/on-demand-service.ts';
import type { OnDemandDef } from '../../src/registry/types.ts';
import { manualClock } from '../store/manual-clock.ts';
import { startFakeUpstream, type FakeUpstream } from './support/upstream.ts';
import { compileFiles } from '../registry/write-registry.ts';

const FEATURES =
  'entities: {user: {prefix: "u:", idType: int}}\n' +
  'features:\n  user:\n    os:\n      events: [{streamName: s, topic: t, fields: [{name: os, type: string}]}]\n';

/** The on-demand feature `user.blocked` on `upstream`, compiled by the registry loader. */
function def(upstream: FakeUpstream, overrides: Record<string, unknown> = {}): OnDemandDef {
  const blocked = {
    url: `${upstream.base}/blocked/{id}`,
    method: 'GET',
    timeout: '500ms',
    fallback: [],
    type: 'list<int>',
    breaker: { failures: 3, reset: '300ms' },
    ...overrides,
  };
  const { registry, issues } = compileFiles({
    'features.yaml': FEATURES,
    'on-demand.yaml': stringify({ onDemand: { user: { blocked } } }),
  });
  expect(issues).toEqual([]);
  return registry!.onDemand[0]!;
}

describe('on-demand service against a real HTTP upstream', () => {
  let upstream: FakeUpstream;
  const calls: { feature: string; outcome: OnDemandOutcome; ids: number }[] = [];
  let service: OnDemandService;
  // The breakers' clock: tests move it past `resetMs` instead of waiting.
  const clock = manualClock();

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    // Well beyond the timeout: a loaded test machine must not turn "slow" into "in time".
    upstream.slowMs = 2_000;
    service = new OnDemandService([], {
      observer: { call: (feature, outcome, _s, ids) => calls.push({ feature, outcome, ids }) },
      now: clock.now,
    });
  });
  afterAll(async () => {
    await service.close();
    await upstream.close();
  });

  it('fetches values, one call per id', async () => {
    upstream.mode = 'ok';
    const d = def(upstream);
    service.update([d]);
    expect(await service.fetch(d, ['1', '2'])).toEqual([
      [10, 11],
      [20, 21],
    ]);
  });

  it('serves the fallback on a 404, a 500, a hang, a slow answer and a wrong type', async () => {
    const d = def(upstream, { breaker: { failures: 100, reset: '300ms' } });
    service.update([d]);
    upstream.mode = 'ok';
    expect(await service.fetch(d, ['404'])).toEqual([[]]);
    for (const mode of ['fail', 'hang', 'slow', 'bad_type'] as const) {
      upstream.mode = mode;
      calls.length = 0;
      expect(await service.fetch(d, ['3'])).toEqual([[]]);
      expect(calls[0]?.outcome).toBe(
        { fail: 'http_error', hang: 'timeout', slow: 'timeout', bad_type: 'bad_type' }[mode],
      );
    }
  });

  it('opens the breaker after repeated failures, serves the fallback without calling, and closes after a good probe', async () => {
    const d = def(upstream, { url: `${upstream.base}/blocked/{id}?breaker=1` });
    service.update([d]);
    upstream.mode = 'fail';
    for (let i = 0; i < 3; i++) await service.fetch(d, ['5']);
    expect(service.breakerState('user', 'blocked')).toBe('open');
    const before = upstream.requests.length;
    upstream.mode = 'ok';
    expect(await service.fetch(d, ['5'])).toEqual([[]]);
    expect(upstream.requests.length).toBe(before); // refused without a call
    clock.advance(300); // resetMs
    expect(await service.fetch(d, ['5'])).toEqual([[50, 51]]); // the probe
    expect(service.breakerState('user', 'blocked')).toBe('closed');
  });

  it('batches ids into one call when the url takes {ids}, split by maxBatch', async () => {
    upstream.mode = 'ok';
    const d = def(upstream, { url: `${upstream.base}/blocked?ids={ids}`, maxBatch: 3 });
    service.update([d]);
    const loader = new OnDemandLoader(service);
    const before = upstream.requests.length;
    const values = await Promise.all(['1', '2', '3', '404', '1', '7'].map((id) => loader.load(d, id)));
    expect(values).toEqual([[10, 11], [20, 21], [30, 31], [], [10, 11], [70, 71]]);
    const made = upstream.requests.slice(before).map((r) => r.url);
    expect(made).toEqual(['/blocked?ids=1,2,3', '/blocked?ids=404,7']);
  });

  it('POSTs ids as JSON numbers for int entities', async () => {
    upstream.mode = 'ok';
    const d = def(upstream, { url: `${upstream.base}/blocked?batch={ids}`, method: 'POST' });
    service.update([d]);
    const before = upstream.requests.length;
    expect(await service.fetch(d, ['4', '6'])).toEqual([
      [40, 41],
      [60, 61],
    ]);
    expect(upstream.requests[before]).toMatchObject({ method: 'POST', body: '{"ids":[4,6]}' });
  });
});

describe('circuit breaker state machine', () => {
  it('lets exactly one probe through when half-open', () => {
    let now = 0;
    const b = new CircuitBreaker({ failures: 2, resetMs: 100, now: () => now });
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    now = 150;
    expect(b.tryAcquire()).toBe(true);
    expect(b.state).toBe('half_open');
    expect(b.tryAcquire()).toBe(false);
    b.failure();
    expect(b.state).toBe('open');
    now = 300;
    expect(b.tryAcquire()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
  });
});
