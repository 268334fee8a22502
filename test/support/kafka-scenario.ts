import pino from 'pino';
import { expect } from 'vitest';
import type { Ingestor } from '../../src/ingest/ingestor-contract.ts';
import { startConsumers, type RunningConsumers } from '../../src/ingest/stream/start-consumers.ts';
import type { StreamMetrics } from '../../src/ingest/stream/stream-metrics.ts';
import {
  isPoison,
  openPipeline,
  readState,
  serialReference,
  writeTestRegistry,
  type Pipeline,
  type TestEvent,
} from '../stream/fixtures/pipeline.ts';
import { tempDir } from './temp-dir.ts';

/**
 * Pieces of the Kafka group tests: one registry whose stream reads a Kafka topic, several group
 * members (each a `startConsumers`, as in one `larder ingest` process) over one store, an
 * ingestor that holds every write until released, and the exact-rows check against a serial
 * reference (order kept per user, nothing lost, nothing twice).
 */
export interface KafkaScenario {
  readonly registryDir: string;
  readonly dataDir: string;
  readonly pipeline: Pipeline;
  /** Starts one more group member (its main-topic and retry-tier sources). */
  member(options?: { ingestor?: Ingestor; metrics?: StreamMetrics }): Promise<RunningConsumers>;
  close(): Promise<void>;
}

export const FAST_GROUP_OPTIONS = {
  fetchWait: '200ms',
  sessionTimeout: '6s',
  heartbeatInterval: '500ms',
} as const;

export async function openKafkaScenario(spec: {
  brokers: string[];
  topic: string;
  group: string;
  options?: Record<string, unknown>;
  /** More of `connection` beside `brokers`: `tls`, `sasl`. */
  connection?: Record<string, unknown>;
}): Promise<KafkaScenario> {
  const reg = tempDir('larder-kafka-reg-');
  const data = tempDir('larder-kafka-data-');
  writeTestRegistry(reg.dir, {
    source: 'kafka',
    connection: { brokers: spec.brokers, ...spec.connection },
    topic: spec.topic,
    group: spec.group,
    options: { ...FAST_GROUP_OPTIONS, ...spec.options },
  });
  const pipeline = await openPipeline(reg.dir, data.dir);
  const members: RunningConsumers[] = [];
  return {
    registryDir: reg.dir,
    dataDir: data.dir,
    pipeline,
    async member(options = {}) {
      const running = await startConsumers({
        registry: pipeline.registry,
        ingestor: options.ingestor ?? pipeline.ingestor,
        logger: pino({ level: 'silent' }),
        dataDir: data.dir,
        ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      });
      members.push(running);
      return running;
    },
    async close() {
      for (const m of members) await m.stop().catch(() => undefined);
      await pipeline.close();
      reg.remove();
      data.remove();
    },
  };
}

/** An ingestor that holds every call until `release()`; `held` counts the calls waiting. */
export function gatedIngestor(inner: Ingestor): { ingestor: Ingestor; release(): void; held(): number } {
  let open = false;
  let waiting: (() => void)[] = [];
  return {
    ingestor: {
      async ingest(events, options) {
        if (!open) await new Promise<void>((resolve) => waiting.push(resolve));
        return inner.ingest(events, options);
      },
    },
    release() {
      open = true;
      const wake = waiting;
      waiting = [];
      for (const w of wake) w();
    },
    held: () => waiting.length,
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * The store holds exactly what applying `events` one by one gives: every good event once, no
 * other row, and (with `order`) per user the static feature that the last event in order set.
 */
export async function expectExactRows(
  scenario: KafkaScenario,
  events: readonly TestEvent[],
  topic: string,
  users: number,
  { order = true }: { order?: boolean } = {},
): Promise<void> {
  const ref = tempDir('larder-kafka-ref-');
  try {
    const expected = await serialReference(scenario.registryDir, ref.dir, events, topic, users);
    const actual = await readState(scenario.pipeline.store, users);
    let rows = 0;
    let missing = 0;
    for (const [user, want] of expected) {
      const got = actual.get(user)!;
      const ids = got.rows.map((r) => r.eventId);
      expect(new Set(ids).size, `duplicate rows of ${user}`).toBe(ids.length);
      missing += want.rows.length - got.rows.length;
      rows += got.rows.length;
    }
    const good = events.filter((e) => !isPoison(e)).length;
    expect({ rows, missing }, 'rows in the store').toEqual({ rows: good, missing: 0 });
    if (!order) {
      for (const [user, want] of expected) {
        const ids = (rows: readonly { eventId: string }[]) => rows.map((r) => r.eventId).sort();
        expect(ids(actual.get(user)!.rows), `rows of ${user}`).toEqual(ids(want.rows));
      }
      return;
    }
    for (const [user, want] of expected) {
      const got = actual.get(user)!;
      expect(got.rows, `rows of ${user}`).toEqual(want.rows);
      expect(got.last, `last_item of ${user} (per-key order)`).toEqual(want.last);
    }
  } finally {
    ref.remove();
  }
}

/** Events keyed by user: Kafka keeps one user's events on one partition, in order. */
export const byUser = (payload: string): string => (JSON.parse(payload) as TestEvent).user_id;
