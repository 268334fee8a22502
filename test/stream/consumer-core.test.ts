import { describe, expect, it } from 'vitest';
import { LarderError } from '../../src/errors.ts';
import { StreamConsumer } from '../../src/ingest/stream/consumer.ts';
import { DEFAULT_CONSUMER_OPTIONS, type ConsumerOptions } from '../../src/registry/stream-options.ts';
import { createMessageDecoder } from '../../src/ingest/stream/message-decoder.ts';
import type { Ingestor } from '../../src/ingest/ingestor-contract.ts';
import type { EventResult, IncomingEvent, IngestReport } from '../../src/ingest/types.ts';
import { MemorySource } from './fixtures/memory-source.ts';
import { waitUntil } from '../support/wait-until.ts';

interface Body {
  id: number;
  user: string;
  poison?: boolean;
  failTimes?: number;
  /** Every batch holding the event throws this permanent error (a write the store refuses). */
  refused?: boolean;
}

/**
 * A scripted ingestor: it stands in for the write path so that the consumer's own behaviour
 * (ordering, settling, fencing) can be observed call by call. `poison` events are rejected,
 * `failTimes` makes every batch holding the event throw that many times (a transient outage).
 */
class ScriptedIngestor implements Ingestor {
  readonly calls: Body[][] = [];
  readonly written: Body[] = [];
  readonly failures = new Map<number, number>();
  concurrent = 0;
  peak = 0;
  delayMs = 0;
  gate: Promise<void> | undefined;

  async ingest(events: readonly IncomingEvent[]): Promise<IngestReport> {
    this.concurrent += 1;
    this.peak = Math.max(this.peak, this.concurrent);
    try {
      const bodies = events.map((e) => e.body as Body);
      this.calls.push(bodies);
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.gate !== undefined) await this.gate;
      for (const body of bodies) {
        if (body.refused === true) {
          throw new LarderError('LARDER_ERR_STORE_WRITE_INVALID', `store write #0: refused ${body.id}`);
        }
        const seen = this.failures.get(body.id) ?? 0;
        if (body.failTimes !== undefined && seen < body.failTimes) {
          this.failures.set(body.id, seen + 1);
          throw new Error(`store down for ${body.id}`);
        }
      }
      const results: EventResult[] = bodies.map((b) =>
        b.poison === true
          ? {
              outcome: 'rejected',
              writes: 0,
              rejections: [{ code: 'LARDER_ERR_EVENT_TYPE', message: 'bad' }],
            }
          : { outcome: 'written', writes: 1, rejections: [] },
      );
      for (const b of bodies) if (b.poison !== true) this.written.push(b);
      return { accepted: 0, filtered: 0, rejected: 0, rejections: [], results };
    } finally {
      this.concurrent -= 1;
    }
  }
}

function consumerFor(source: MemorySource, ingestor: Ingestor, options: Partial<ConsumerOptions> = {}) {
  return new StreamConsumer({
    source,
    ingestor,
    decode: createMessageDecoder({
      stream: 'test',
      topic: 'topic',
      keyFields: ['user'],
      timestampField: undefined,
    }),
    options: { ...DEFAULT_CONSUMER_OPTIONS, fetchWaitMs: 5, ...options },
  });
}

const events = (n: number, users = 50, extra: (i: number) => Partial<Body> = () => ({})): Body[] =>
  Array.from({ length: n }, (_, i) => ({ id: i, user: `u${i % users}`, ...extra(i) }));

describe('StreamConsumer core', () => {
  it('ingests everything in parallel, keeps per-key order, commits the final watermark', async () => {
    const source = new MemorySource('watermark');
    source.publish('p0', events(5000, 37));
    source.publish(
      'p1',
      events(3000, 11).map((e) => ({ ...e, id: e.id + 10_000 })),
    );
    const ingestor = new ScriptedIngestor();
    ingestor.delayMs = 2;
    const consumer = consumerFor(source, ingestor, { microBatchMax: 50, concurrencyInitial: 8 });
    await consumer.start();
    await waitUntil(
      () => source.committed.get('p0') === '4999' && source.committed.get('p1') === '2999',
      10_000,
      "source.committed.get('p0') === '4999' && source.committed.get('p1') === '2999'",
    );
    await consumer.stop();
    expect(ingestor.written).toHaveLength(8000);
    expect(ingestor.peak).toBeGreaterThan(1);
    const byUser = new Map<string, number[]>();
    for (const b of ingestor.written) byUser.set(b.user, [...(byUser.get(b.user) ?? []), b.id]);
    for (const [user, ids] of byUser) expect(ids, user).toEqual([...ids].sort((a, b) => a - b));
    // Commits only ever move forward (MemorySource throws otherwise) and never pass unfinished work.
    for (const partition of ['p0', 'p1']) {
      const offsets = source.commits.filter((c) => c.partition === partition).map((c) => Number(c.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    expect(source.closed).toBe(true);
  });

  it('never commits past an unfinished message', async () => {
    const source = new MemorySource('watermark');
    source.publish('p0', events(100, 100));
    const ingestor = new ScriptedIngestor();
    let release!: () => void;
    const consumer = consumerFor(source, ingestor, {
      microBatchMax: 1,
      concurrencyInitial: 4,
      concurrencyMax: 4,
    });
    // Hold the very first message; the others may finish but the watermark must stay behind it.
    const original = ingestor.ingest.bind(ingestor);
    ingestor.ingest = async (evts) => {
      if ((evts[0]!.body as Body).id === 0) await new Promise<void>((r) => (release = r));
      return original(evts);
    };
    await consumer.start();
    await waitUntil(() => ingestor.written.length >= 50, 10_000, 'ingestor.written.length >= 50');
    expect(source.committed.get('p0')).toBeUndefined();
    release();
    await waitUntil(() => source.committed.get('p0') === '99', 10_000, "source.committed.get('p0') === '99'");
    await consumer.stop();
  });

  it('dead-letters poison before acking it, and ingests the rest', async () => {
    const source = new MemorySource('per-message');
    source.publish(
      's',
      events(500, 20, (i) => (i % 50 === 7 ? { poison: true } : {})),
    );
    const ingestor = new ScriptedIngestor();
    const consumer = consumerFor(source, ingestor);
    await consumer.start();
    await waitUntil(() => source.acked.length === 500, 10_000, 'source.acked.length === 500');
    await consumer.stop();
    expect(
      source.deadLettered.map((d) => JSON.parse(String(d.message.payload)).id).sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 10 }, (_, k) => k * 50 + 7));
    expect(
      source.deadLettered.every((d) => d.info.code === 'LARDER_ERR_EVENT_TYPE' && d.info.attempts === 1),
    ).toBe(true);
    expect(ingestor.written).toHaveLength(490);
    expect(source.retried).toHaveLength(0);
  });

  it('isolates a transiently failing message by bisection and republishes only it with tier-1 delay', async () => {
    const source = new MemorySource('per-message');
    source.publish(
      's',
      events(64, 64, (i) => (i === 13 ? { failTimes: 99 } : {})),
    );
    const ingestor = new ScriptedIngestor();
    const consumer = consumerFor(source, ingestor, {
      microBatchMax: 64,
      concurrencyInitial: 1,
      retryDelaysMs: [1000, 10000],
    });
    await consumer.start();
    await waitUntil(() => source.acked.length === 64, 10_000, 'source.acked.length === 64');
    await consumer.stop();
    expect(source.retried).toHaveLength(1);
    const retry = source.retried[0]!;
    expect(JSON.parse(String(retry.message.payload)).id).toBe(13);
    expect(retry.info).toMatchObject({ attempts: 1, delayMs: 1000, error: 'store down for 13' });
    expect(ingestor.written).toHaveLength(63);
  });

  it('dead-letters a message the store refuses for good at once, without retrying it', async () => {
    const source = new MemorySource('per-message');
    source.publish(
      's',
      events(32, 32, (i) => (i === 7 ? { refused: true } : {})),
    );
    const ingestor = new ScriptedIngestor();
    const consumer = consumerFor(source, ingestor, { microBatchMax: 32, concurrencyInitial: 1 });
    await consumer.start();
    await waitUntil(() => source.acked.length === 32, 10_000, 'every message settled');
    await consumer.stop();
    expect(source.retried).toHaveLength(0);
    expect(
      source.deadLettered.map((d) => [
        JSON.parse(String(d.message.payload)).id,
        d.info.code,
        d.info.attempts,
      ]),
    ).toEqual([[7, 'LARDER_ERR_STORE_WRITE_INVALID', 1]]);
    expect(ingestor.written).toHaveLength(31);
  });

  it('uses the next tier per attempt and dead-letters after maxAttempts', async () => {
    const source = new MemorySource('per-message');
    source.publish('s', [{ id: 1, user: 'a', failTimes: 99 }]);
    // Simulate the retry hops: the copy arrives with its headers, as a retry stream delivers it.
    const ingestor = new ScriptedIngestor();
    const consumer = consumerFor(source, ingestor, { maxAttempts: 3, retryDelaysMs: [10, 20] });
    const log = source.partitions.get('s')!;
    const originalRetry = source.retry.bind(source);
    source.retry = async (message, info) => {
      const disposition = await originalRetry(message, info);
      log.push(String(message.payload));
      headersByOffset.set(String(log.length - 1), {
        attempts: info.attempts,
        firstFailureAt: info.firstFailureAt,
        dueAt: Date.now() + info.delayMs,
      });
      return disposition;
    };
    const headersByOffset = new Map<string, { attempts: number; firstFailureAt: number; dueAt: number }>();
    const originalFetch = source.fetch.bind(source);
    source.fetch = async (req) =>
      (await originalFetch(req)).map((m) => ({ ...m, headers: headersByOffset.get(m.offset) ?? m.headers }));
    await consumer.start();
    await waitUntil(() => source.deadLettered.length === 1, 10_000, 'source.deadLettered.length === 1');
    await consumer.stop();
    expect(source.retried.map((r) => [r.info.attempts, r.info.delayMs])).toEqual([
      [1, 10],
      [2, 20],
    ]);
    const dead = source.deadLettered[0]!;
    expect(dead.info.attempts).toBe(3);
    expect(dead.info.code).toBe('LARDER_ERR_RETRIES_EXHAUSTED');
    expect(dead.info.firstFailureAt).toBe(source.retried[0]!.info.firstFailureAt);
    // Dead-lettered before acked: the last ack is the dead-lettered copy.
    expect(source.acked.at(-1)!.offset).toBe('2');
  });

  it('does not ack a message the broker will redeliver (nak disposition)', async () => {
    const source = new MemorySource('per-message');
    source.retryDisposition = 'redelivery';
    source.publish('s', [
      { id: 1, user: 'a', failTimes: 1 },
      { id: 2, user: 'b' },
    ]);
    const ingestor = new ScriptedIngestor();
    const consumer = consumerFor(source, ingestor, { microBatchMax: 1 });
    await consumer.start();
    await waitUntil(
      () => source.retried.length === 1 && source.acked.length === 1,
      10_000,
      'source.retried.length === 1 && source.acked.length === 1',
    );
    await consumer.stop();
    expect(source.acked.map((m) => m.offset)).toEqual(['1']);
    expect(consumer.inFlight).toBe(0);
  });

  it('drops the results of a partition revoked while its batch was running (fencing)', async () => {
    const source = new MemorySource('watermark');
    source.publish('p0', events(10, 10));
    const ingestor = new ScriptedIngestor();
    let release!: () => void;
    ingestor.gate = new Promise<void>((r) => (release = r));
    const consumer = consumerFor(source, ingestor, { microBatchMax: 100 });
    await consumer.start();
    await waitUntil(() => ingestor.calls.length >= 1, 10_000, 'ingestor.calls.length >= 1');
    source.revoke('p0'); // epoch 2, reading restarts at 0 since nothing was committed
    const callsBeforeRevoke = ingestor.calls.length;
    release();
    ingestor.gate = undefined;
    await waitUntil(() => source.committed.get('p0') === '9', 10_000, "source.committed.get('p0') === '9'");
    await consumer.stop();
    expect(source.commits.every((c) => c.epoch === 2)).toBe(true);
    // Epoch-1 batches that were running finished but were not acked or committed; those not yet
    // started were dropped; every message was redone under epoch 2.
    const redone = ingestor.calls
      .slice(callsBeforeRevoke)
      .flat()
      .map((b) => b.id);
    expect([...new Set(redone)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(source.acked.every((m) => m.epoch === 2)).toBe(true);
  });

  it('bounds in-flight messages (back-pressure) and fetches only the room left', async () => {
    const source = new MemorySource('per-message');
    source.publish('s', events(3000, 300));
    const ingestor = new ScriptedIngestor();
    ingestor.delayMs = 3;
    const requests: number[] = [];
    const originalFetch = source.fetch.bind(source);
    let peak = 0;
    source.fetch = async (req) => {
      requests.push(req.max);
      peak = Math.max(peak, consumer.inFlight);
      return originalFetch(req);
    };
    const consumer = consumerFor(source, ingestor, { maxInFlight: 200, fetchMax: 150, microBatchMax: 20 });
    await consumer.start();
    await waitUntil(() => source.acked.length === 3000, 10_000, 'source.acked.length === 3000');
    await consumer.stop();
    expect(peak).toBeLessThanOrEqual(200);
    expect(Math.max(...requests)).toBeLessThanOrEqual(150);
    expect(requests.some((r) => r < 150)).toBe(true);
  });

  it('retries a failed ack until it succeeds', async () => {
    const source = new MemorySource('per-message');
    source.failAcks = 2;
    source.publish('s', events(5, 5));
    const consumer = consumerFor(source, new ScriptedIngestor(), { microBatchMax: 100 });
    await consumer.start();
    await waitUntil(() => source.acked.length === 5, 10_000, 'source.acked.length === 5');
    await consumer.stop();
    expect(source.failAcks).toBe(0);
  });

  it('holds a retried message until its dueAt', async () => {
    const source = new MemorySource('per-message');
    source.publish('s', [{ id: 1, user: 'a' }]);
    const due = Date.now() + 300;
    const originalFetch = source.fetch.bind(source);
    source.fetch = async (req) =>
      (await originalFetch(req)).map((m) => ({ ...m, headers: { attempts: 1, dueAt: due } }));
    const ingestor = new ScriptedIngestor();
    const consumer = consumerFor(source, ingestor);
    await consumer.start();
    await waitUntil(() => ingestor.written.length === 1, 10_000, 'ingestor.written.length === 1');
    const at = Date.now();
    await consumer.stop();
    expect(at).toBeGreaterThanOrEqual(due);
  });
});
