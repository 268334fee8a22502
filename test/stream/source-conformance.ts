import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONSUMER_OPTIONS, readConsumerOptions } from '../../src/registry/stream-options.ts';
import { HEADER } from '../../src/ingest/stream/delivery-headers.ts';
import { createSources } from '../../src/ingest/stream/source-factory.ts';
import { startConsumers } from '../../src/ingest/stream/start-consumers.ts';
import { type SourceMessage, type StreamSource, payloadText } from '../../src/ingest/stream/stream-source.ts';
import { defaultStream } from '../../src/registry/compile-stream.ts';
import type { StreamDef, StreamSourceKind } from '../../src/registry/types.ts';
import { tempDir } from '../support/temp-dir.ts';
import { isPoison, makeEvents, openPipeline, readState, writeTestRegistry } from './fixtures/pipeline.ts';
import { waitUntil } from '../support/wait-until.ts';

/** One fresh topic on the broker under test. */
export interface ConformanceTopic {
  readonly topic: string;
  /** Adapter options that make the test fast (short claim idle / ack wait, small waits). */
  readonly options: Readonly<Record<string, unknown>>;
  publish(payloads: readonly string[]): Promise<void>;
  /** The broker's dead-letter stream for this topic: payload and `larder-*` headers. */
  readDeadLetters(): Promise<{ payload: string; headers: Record<string, string> }[]>;
  cleanup(): Promise<void>;
}

export interface ConformanceHarness {
  readonly source: StreamSourceKind;
  readonly connection: Readonly<Record<string, unknown>>;
  /** `republish`: retries are copies on a retry stream with full headers; `redeliver`: broker nak. */
  readonly retryStyle: 'republish' | 'redeliver';
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  newTopic(): Promise<ConformanceTopic>;
}

const silent = pino({ level: 'silent' });

/**
 * The contract suite every `StreamSource` adapter must pass, against its real broker: delivery
 * and acknowledgement, redelivery of unfinished work after a restart, retry with headers,
 * dead-lettering with headers, and the whole consumer writing into the real store.
 */
export function describeSourceConformance(name: string, harness: ConformanceHarness | undefined): void {
  describe.skipIf(harness === undefined)(name, () => {
    const h = harness as ConformanceHarness;
    const cleanups: (() => Promise<void> | void)[] = [];
    beforeAll(async () => h?.setup?.());
    afterAll(async () => h?.teardown?.());
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function topicWithDef(extra: Record<string, unknown> = {}) {
      const t = await h.newTopic();
      cleanups.push(() => t.cleanup());
      const def: StreamDef = {
        ...defaultStream('events', true),
        source: h.source,
        connection: h.connection,
        options: { ...t.options, ...extra },
      };
      const data = tempDir('larder-conf-');
      cleanups.push(() => data.remove());
      const open = async (): Promise<StreamSource[]> => {
        const sources = await createSources(def, t.topic, readConsumerOptions('events', def.options), {
          dataDir: data.dir,
        });
        for (const s of sources) await s.start();
        cleanups.push(async () => {
          for (const s of sources) await s.close().catch(() => undefined);
        });
        return sources;
      };
      return { t, def, open };
    }

    async function fetchN(source: StreamSource, n: number, timeoutMs = 15_000): Promise<SourceMessage[]> {
      const got: SourceMessage[] = [];
      await waitUntil(
        async () => {
          got.push(...(await source.fetch({ max: n - got.length, waitMs: 100 })));
          return got.length >= n ? true : undefined;
        },
        timeoutMs,
        `${n} messages`,
      );
      return got;
    }

    /** Acks messages the way the core does: per message, or by committing the contiguous watermark. */
    async function finish(source: StreamSource, messages: readonly SourceMessage[]): Promise<void> {
      await source.ack(messages);
      if (source.commitMode === 'watermark') {
        const last = messages[messages.length - 1]!;
        await source.commit(last.partition, last.offset, last.epoch);
      }
    }

    it('delivers payloads in publish order with broker metadata', async () => {
      const { t, open } = await topicWithDef();
      const payloads = Array.from({ length: 25 }, (_, i) => JSON.stringify({ i, user_id: `u${i % 3}` }));
      await t.publish(payloads);
      const [main] = await open();
      const got = await fetchN(main!, 25);
      expect(got.map((m) => payloadText(m.payload))).toEqual(payloads);
      for (const m of got) {
        expect(m.headers.attempts).toBe(0);
        expect(typeof m.offset).toBe('string');
        expect(m.publishedAt).toBeGreaterThan(Date.now() - 600_000);
        expect(main!.isCurrent(m.partition, m.epoch)).toBe(true);
      }
      await finish(main!, got);
    });

    it('after a restart, redelivers what was not finished and nothing that was', async () => {
      const { t, open } = await topicWithDef();
      const payloads = Array.from({ length: 20 }, (_, i) => JSON.stringify({ i }));
      await t.publish(payloads);
      const first = await open();
      const got = await fetchN(first[0]!, 20);
      // Finish the first 10 (acks in reverse order: any order is allowed).
      await first[0]!.ack([...got.slice(0, 10)].reverse());
      if (first[0]!.commitMode === 'watermark')
        await first[0]!.commit(got[9]!.partition, got[9]!.offset, got[9]!.epoch);
      for (const s of first) await s.close();

      const second = await open();
      const again = await fetchN(second[0]!, 10, 30_000);
      expect(again.map((m) => payloadText(m.payload)).sort()).toEqual(payloads.slice(10).sort());
      await finish(second[0]!, again);
      const extra = await second[0]!.fetch({ max: 10, waitMs: 300 });
      expect(extra).toEqual([]);
    });

    it('retries a message with attempts and its original identity after the delay', async () => {
      const { t, open } = await topicWithDef();
      await t.publish([JSON.stringify({ i: 1 })]);
      const sources = await open();
      const [m] = await fetchN(sources[0]!, 1);
      const before = Date.now();
      const disposition = await sources[0]!.retry(m!, {
        attempts: 1,
        delayMs: 300,
        code: 'TRANSIENT',
        error: 'store down',
        firstFailureAt: before,
      });
      expect(disposition).toBe(h.retryStyle === 'republish' ? 'republished' : 'redelivery');
      if (disposition === 'republished') await finish(sources[0]!, [m!]);
      const back = await waitUntil(
        async () => {
          for (const s of sources) {
            const got = await s.fetch({ max: 1, waitMs: 100 });
            if (got[0] !== undefined) return got[0];
          }
          return undefined;
        },
        15_000,
        'the retried message',
      );
      expect(payloadText(back.payload)).toBe(payloadText(m!.payload));
      expect(back.headers.attempts).toBe(1);
      if (h.retryStyle === 'republish') {
        expect(back.headers.originOffset).toBe(m!.offset);
        expect(back.headers.originPartition).toBe(m!.partition);
        expect(back.headers.lastError).toBe('store down');
        expect(back.headers.firstFailureAt).toBe(before);
        expect(back.headers.dueAt).toBeGreaterThanOrEqual(before + 300);
        expect(back.headers.originPublishedAt).toBe(m!.publishedAt);
      } else {
        expect(back.offset).toBe(m!.offset);
      }
    });

    it('dead-letters a message with its headers', async () => {
      const { t, open } = await topicWithDef();
      await t.publish([JSON.stringify({ poison: true })]);
      const [main] = await open();
      const [m] = await fetchN(main!, 1);
      await main!.deadLetter(m!, {
        attempts: 4,
        code: 'LARDER_ERR_RETRIES_EXHAUSTED',
        error: 'gave up',
        firstFailureAt: 123,
      });
      await finish(main!, [m!]);
      const letters = await waitUntil(
        async () => {
          const l = await t.readDeadLetters();
          return l.length > 0 ? l : undefined;
        },
        10_000,
        'the dead letter',
      );
      expect(letters).toHaveLength(1);
      expect(letters[0]!.payload).toBe(payloadText(m!.payload));
      expect(letters[0]!.headers).toMatchObject({
        [HEADER.attempts]: '4',
        [HEADER.errorCode]: 'LARDER_ERR_RETRIES_EXHAUSTED',
        [HEADER.lastError]: 'gave up',
        [HEADER.firstFailureAt]: '123',
        [HEADER.originOffset]: m!.offset,
      });
    });

    it('consumes into the real store: every good event written once, every poison one dead-lettered', async () => {
      const t = await h.newTopic();
      cleanups.push(() => t.cleanup());
      const reg = tempDir('larder-conf-reg-');
      const data = tempDir('larder-conf-data-');
      cleanups.push(
        () => reg.remove(),
        () => data.remove(),
      );
      writeTestRegistry(reg.dir, {
        source: h.source,
        connection: h.connection,
        topic: t.topic,
        options: t.options,
      });
      const users = 40;
      const events = makeEvents(1500, users, 50);
      await t.publish(events.map((e) => JSON.stringify(e)));
      const pipeline = await openPipeline(reg.dir, data.dir);
      cleanups.push(() => pipeline.close());
      const running = await startConsumers({
        registry: pipeline.registry,
        ingestor: pipeline.ingestor,
        logger: silent,
        dataDir: data.dir,
      });
      cleanups.push(() => running.stop());
      const poison = events.filter(isPoison);
      await waitUntil(
        async () =>
          running.metrics.total('written') >= events.length - poison.length &&
          running.metrics.total('rejected') >= poison.length
            ? true
            : undefined,
        30_000,
        'all events consumed',
      );
      const letters = await waitUntil(
        async () => {
          const l = await t.readDeadLetters();
          return l.length >= poison.length ? l : undefined;
        },
        10_000,
        'dead letters',
      );
      expect(letters.map((l) => JSON.parse(l.payload).event_id).sort()).toEqual(
        poison.map((e) => e.event_id).sort(),
      );
      expect(letters.every((l) => l.headers[HEADER.errorCode] === 'LARDER_ERR_EVENT_TYPE')).toBe(true);
      // The LMDB table holds each poison event at least once (a redelivery may record it again).
      const table = await pipeline.deadLetters.list({ limit: 10_000 });
      const tableIds = new Set(table.map((d) => (d.body as { event_id: string }).event_id));
      expect([...tableIds].sort()).toEqual(poison.map((e) => e.event_id).sort());
      const state = await readState(pipeline.store, users);
      let rows = 0;
      for (const [, s] of state) {
        rows += s.rows.length;
        expect(new Set(s.rows.map((r) => r.eventId)).size).toBe(s.rows.length);
      }
      expect(rows).toBe(events.length - poison.length);
      // Counted as written when the store write resolves; released from in-flight just after.
      await waitUntil(
        () => running.consumers().every((c) => c.inFlight === 0),
        5_000,
        'every consumer to release its in-flight messages',
      );
      const lags = await running.consumers()[0]!.source.lag();
      expect(lags.length).toBeGreaterThan(0);
    });

    it('keeps consumer options readable from the stream options', () => {
      const options = readConsumerOptions('events', {
        retryDelays: ['1s', 2000],
        maxAttempts: 3,
        concurrency: { max: 8 },
      });
      expect(options.retryDelaysMs).toEqual([1000, 2000]);
      expect(options.maxAttempts).toBe(3);
      expect(options.concurrencyMax).toBe(8);
      expect(options.fetchMax).toBe(DEFAULT_CONSUMER_OPTIONS.fetchMax);
    });
  });
}
