import { describe, expect, it } from 'vitest';
import type { IncomingEvent, IngestReport } from '../../src/ingest/types.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { WriteActivity } from '../../src/runtime/console/feature-activity.ts';
import { HistoryClock } from '../../src/runtime/console/history-clock.ts';
import { StreamHistoryRecorder } from '../../src/runtime/console/stream-history.ts';
import { TickRing } from '../../src/runtime/console/tick-ring.ts';
import { manualClock } from '../store/manual-clock.ts';
import { binding, feature, field, registry } from '../support/registry-builder.ts';

const users = new RegistryHolder(
  registry({
    features: [
      feature('user', 'os', { events: [binding('client', 'app', { fields: [field('os', 'string')] })] }),
      feature('user', 'clicks', {
        featureType: 'action',
        events: [binding('client', 'app', { fields: [field('item', 'int')] })],
      }),
    ],
  }),
);

function report(outcomes: ('written' | 'filtered' | 'rejected')[]): IngestReport {
  const results = outcomes.map((outcome) => ({
    outcome,
    writes: outcome === 'written' ? 1 : 0,
    rejections: [],
  }));
  return {
    accepted: outcomes.filter((o) => o === 'written').length,
    filtered: outcomes.filter((o) => o === 'filtered').length,
    rejected: outcomes.filter((o) => o === 'rejected').length,
    rejections: [],
    results,
  };
}

const event = (topic: string): IncomingEvent => ({ stream: 'client', topic, body: {}, receivedAt: 0 });

describe('TickRing', () => {
  it('keeps one window of ticks; stale slots read as missing, not as old values', () => {
    const ring = new TickRing(4);
    ring.set(10, 1);
    ring.add(11, 2);
    ring.add(11, 3);
    expect(ring.read(10, 13, null)).toEqual([1, 5, null, null]);
    ring.set(14, 7); // slot of tick 10 taken over
    expect(ring.read(11, 14, 0)).toEqual([5, 0, 0, 7]);
    expect(ring.get(10, null)).toBeNull();
    // Asking for more than the window gives the window.
    expect(ring.read(0, 14, 0)).toHaveLength(4);
  });
});

describe('the console history', () => {
  it('turns ingest reports into events/s by outcome per stream/topic, one point per tick, an hour long', async () => {
    const clock = manualClock(1_000_000_000_000);
    const history = new HistoryClock(1_000, clock.now);
    expect(history.size).toBe(3_600);
    const recorder = new StreamHistoryRecorder(users, history);

    recorder.observeIngest(
      [event('app'), event('app'), event('app')],
      report(['written', 'written', 'filtered']),
    );
    clock.advance(1_000);
    await recorder.sample();
    recorder.observeIngest([event('app'), event('other')], report(['rejected', 'written']));
    clock.advance(1_000);
    await recorder.sample();
    clock.advance(1_000);

    const streams = (await recorder.report()).streams;
    expect(streams.map((s) => s.id)).toEqual(['client/app', 'client/other']);
    const app = streams[0]!;
    expect(app.totals).toMatchObject({
      written: 2,
      filtered: 1,
      rejected: 1,
      deadLettered: 1,
      deduplicated: null,
    });
    expect(app.series.t).toHaveLength(3_600);
    // The window ends at the last sample (a tick not sampled yet is not shown as a drop to 0).
    expect(app.series.columns['events']?.slice(-3)).toEqual([0, 3, 1]);
    expect(app.series.columns['written']?.slice(-3)).toEqual([0, 2, 0]);
    expect(app.series.columns['rejected']?.slice(-3)).toEqual([0, 0, 1]);
    expect(app.series.columns['lag']?.slice(-1)).toEqual([null]); // HTTP push: no lag
    expect(app.eventsPerSec).toBe(1);
    expect(streams[1]?.totals.written).toBe(1);
  });

  it('knows when each feature was last written and its writes per second', () => {
    const clock = manualClock(1_000_000_000_000);
    const activity = new WriteActivity(users, new HistoryClock(5_000, clock.now));
    expect(activity.lastEventAt('user', 'os')).toBeNull();
    const staticWrite = (pk: string) =>
      ({
        kind: 'static',
        pk,
        container: 'single',
        mutation: { op: 'set', value: 'ios' },
        ts: 1,
        ttlMs: undefined,
        maxCount: 1,
      }) as const;
    activity.record([staticWrite('user:1#os'), staticWrite('user:2#os'), staticWrite('user:3#nothing')]);
    clock.advance(5_000);
    expect(activity.lastEventAt('user', 'os')).toBe(1_000_000_000_000);
    expect(activity.lastEventAt('user', 'clicks')).toBeNull();
    const series = activity.eventsPerSec('user', 'os');
    expect(series.t).toHaveLength(720);
    expect(series.columns['events']?.at(-1)).toBeCloseTo(2 / 5);
    expect(activity.eventsPerSec('user', 'clicks').columns['events']?.every((v) => v === 0)).toBe(true);
  });
});
