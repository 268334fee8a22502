import type { IncomingEvent, IngestReport } from '../../ingest/types.ts';
import type { RunningBinding, RunningConsumers } from '../../ingest/stream/start-consumers.ts';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { StreamHistory } from '../../serve/admin/admin-sources.ts';
import type { StreamOutcomes, StreamStatus, StreamsReport } from '../../serve/admin/admin-types.ts';
import type { HistoryClock } from './history-clock.ts';
import { TickRing } from './tick-ring.ts';

/** Counted per event: what the ingestor decided (every source) and what the consumers did after. */
interface Totals {
  written: number;
  filtered: number;
  rejected: number;
  /** Failed transiently and handed to a retry tier (brokers). */
  retried: number;
  /** Broker DLQ (after the retries); the ingestor's rejects go to the local table and count as rejected. */
  brokerDead: number;
}

const RATES = ['events', 'written', 'filtered', 'rejected', 'deadLettered', 'retried'] as const;

interface Track {
  readonly stream: string;
  readonly topic: string;
  readonly totals: Totals;
  /** Totals at the previous sample, for the rates. */
  previous: Totals;
  readonly rates: Record<(typeof RATES)[number], TickRing>;
  readonly lag: TickRing;
  readonly tiers: Map<string, TickRing>;
  lastRate: number;
  lastLag: number | null;
  lastTiers: Map<string, number | null>;
}

const zero = (): Totals => ({ written: 0, filtered: 0, rejected: 0, retried: 0, brokerDead: 0 });

/**
 * The console's stream charts, kept in-process for an hour (no Prometheus needed): per
 * `stream/topic`, events/s by outcome, consumer lag and retry-tier depths, one sample per tick of
 * the clock. Fed by every batch the ingestor answers (HTTP push and broker consumers alike), and
 * by the broker consumers' own metrics (retries, broker dead letters, lag gauges).
 */
export class StreamHistoryRecorder implements StreamHistory {
  readonly #tracks = new Map<string, Track>();
  #consumers: RunningConsumers | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The tick the last sample was written to: the charts end there, not at a tick not sampled yet. */
  #lastTick: number | undefined;

  constructor(
    readonly registry: Pick<RegistryHolder, 'current'>,
    readonly clock: HistoryClock,
  ) {}

  /** Counts one ingested batch by stream/topic and outcome. */
  observeIngest(events: readonly IncomingEvent[], report: IngestReport): void {
    let key = '';
    let track: Track | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as IncomingEvent;
      const next = `${event.stream}/${event.topic}`;
      if (next !== key || track === undefined) {
        key = next;
        track = this.#track(event.stream, event.topic);
      }
      const outcome = report.results[i]?.outcome;
      if (outcome !== undefined) track.totals[outcome]++;
    }
  }

  /** The broker consumers of this process: their retries, dead letters and lag join the charts. */
  attachConsumers(consumers: RunningConsumers): void {
    this.#consumers = consumers;
  }

  /** Samples every tick until `stop()`; the timer never keeps the process alive. */
  start(): void {
    this.#timer ??= setInterval(() => void this.sample().catch(() => undefined), this.clock.sampleMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one sample: the rates since the last one, and the lags now. */
  async sample(): Promise<void> {
    // The sample covers the interval that ends now: it is written to the tick most of it fell in.
    const tick = this.clock.tick(this.clock.now() - this.clock.sampleMs / 2);
    this.#lastTick = tick;
    const seconds = this.clock.sampleMs / 1000;
    const bindings = this.#consumers?.bindings() ?? [];
    this.#addConsumerTotals(bindings);
    const lags = await this.#lags();
    for (const track of this.#tracks.values()) {
      const now = track.totals;
      const before = track.previous;
      const delta = (k: keyof Totals): number => (now[k] - before[k]) / seconds;
      const events = delta('written') + delta('filtered') + delta('rejected');
      track.rates.events.set(tick, events);
      track.rates.written.set(tick, delta('written'));
      track.rates.filtered.set(tick, delta('filtered'));
      track.rates.rejected.set(tick, delta('rejected'));
      track.rates.deadLettered.set(tick, delta('rejected') + delta('brokerDead'));
      track.rates.retried.set(tick, delta('retried'));
      track.previous = { ...now };
      track.lastRate = events;
    }
    for (const binding of bindings) {
      const track = this.#track(binding.stream, binding.topic);
      const [own, ...tiers] = binding.sourceIds;
      track.lastLag = own === undefined ? null : (lags.get(own) ?? null);
      if (track.lastLag !== null) track.lag.set(tick, track.lastLag);
      track.lastTiers = new Map(tiers.map((id) => [id, lags.get(id) ?? null]));
      for (const id of tiers) {
        let ring = track.tiers.get(id);
        if (ring === undefined) track.tiers.set(id, (ring = new TickRing(this.clock.size)));
        const depth = lags.get(id);
        if (depth !== undefined) ring.set(tick, depth);
      }
    }
  }

  async report(): Promise<StreamsReport> {
    const registry = this.registry.current;
    // Every stream/topic the registry reads is listed, traffic or not.
    for (const feature of registry.features)
      for (const e of feature.events) this.#track(e.streamName, e.topic);
    const { from, to, t } = this.clock.window(this.#lastTick);
    const streams: StreamStatus[] = [...this.#tracks.values()]
      .sort((a, b) => (a.stream === b.stream ? cmp(a.topic, b.topic) : cmp(a.stream, b.stream)))
      .map((track) => {
        const columns: Record<string, (number | null)[]> = {};
        for (const name of RATES) columns[name] = track.rates[name].read(from, to, 0);
        columns['lag'] = track.lag.read(from, to, null);
        for (const [id, ring] of track.tiers) columns[`tier:${id}`] = ring.read(from, to, null);
        return {
          id: `${track.stream}/${track.topic}`,
          stream: track.stream,
          topic: track.topic,
          source: registry.streams.get(track.stream)?.source ?? 'unknown',
          eventsPerSec: track.lastRate,
          lag: track.lastLag,
          totals: outcomes(track.totals),
          retryTiers: [...track.lastTiers].map(([source, depth]) => ({ source, depth })),
          series: { t, columns },
        };
      });
    return { sampleMs: this.clock.sampleMs, now: this.clock.now(), streams };
  }

  #track(stream: string, topic: string): Track {
    const key = `${stream}/${topic}`;
    let track = this.#tracks.get(key);
    if (track === undefined) {
      const ring = (): TickRing => new TickRing(this.clock.size);
      track = {
        stream,
        topic,
        totals: zero(),
        previous: zero(),
        rates: {
          events: ring(),
          written: ring(),
          filtered: ring(),
          rejected: ring(),
          deadLettered: ring(),
          retried: ring(),
        },
        lag: ring(),
        tiers: new Map(),
        lastRate: 0,
        lastLag: null,
        lastTiers: new Map(),
      };
      this.#tracks.set(key, track);
    }
    return track;
  }

  /** Copies the consumers' retried and broker-dead-lettered totals (cumulative) into the tracks. */
  #addConsumerTotals(bindings: readonly RunningBinding[]): void {
    const totals = this.#consumers?.metrics.totals;
    if (totals === undefined) return;
    for (const binding of bindings) {
      let retried = 0;
      let dead = 0;
      for (const id of binding.sourceIds) {
        retried += totals.get(id)?.get('retried') ?? 0;
        dead += totals.get(id)?.get('dead_lettered') ?? 0;
      }
      const track = this.#track(binding.stream, binding.topic);
      track.totals.retried = retried;
      track.totals.brokerDead = dead;
    }
  }

  /** Messages behind, per source id (summed over partitions), from the consumers' lag gauge. */
  async #lags(): Promise<Map<string, number>> {
    const lags = new Map<string, number>();
    const gauge = this.#consumers?.metrics.registry.getSingleMetric('larder_stream_lag_messages');
    if (gauge === undefined) return lags;
    for (const { value, labels } of (await gauge.get()).values) {
      const source = String(labels['source'] ?? '');
      lags.set(source, (lags.get(source) ?? 0) + value);
    }
    return lags;
  }
}

function outcomes(t: Totals): StreamOutcomes {
  return {
    written: t.written,
    deduplicated: null,
    filtered: t.filtered,
    rejected: t.rejected,
    deadLettered: t.rejected + t.brokerDead,
    retried: t.retried,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
