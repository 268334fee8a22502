import type { Logger } from 'pino';
import { isLarderError, type LarderError } from '../../errors.ts';
import { backoffMs } from '../backoff.ts';
import type { Ingestor } from '../ingestor-contract.ts';
import type { IncomingEvent } from '../types.ts';
import { AdaptiveConcurrency } from './adaptive-concurrency.ts';
import { NO_OBSERVER, type ConsumerObserver } from './consumer-observer.ts';
import type { ConsumerOptions } from '../../registry/stream-options.ts';
import { KeyedScheduler } from './keyed-scheduler.ts';
import type { MessageDecoder } from './message-decoder.ts';
import { OffsetTracker } from './offset-tracker.ts';
import type { SourceMessage, StreamSource } from './stream-source.ts';

export interface StreamConsumerDeps {
  readonly source: StreamSource;
  readonly ingestor: Ingestor;
  readonly decode: MessageDecoder;
  readonly options: ConsumerOptions;
  readonly logger?: Logger;
  readonly observer?: ConsumerObserver;
}

interface WorkItem {
  readonly msg: SourceMessage;
  readonly event: IncomingEvent;
  readonly key: string | undefined;
  readonly eventTime: number | undefined;
  readonly partition: PartitionState;
  /** The offset tracker's handle; -1 on per-message brokers, whose acks are the commit. */
  readonly handle: number;
  readonly fetchedAt: number;
}

interface PartitionState {
  readonly name: string;
  readonly epoch: number;
  readonly tracker: OffsetTracker;
  committed: string | undefined;
  committing: Promise<void> | undefined;
}

/**
 * The engine-agnostic consumer: fetch → decode → schedule micro-batches by key → ingest → settle
 * (ack, retry, dead-letter) → commit the contiguous watermark. One instance per source.
 *
 * - Fetching overlaps processing: the loop fetches again as soon as there is room, while earlier
 *   micro-batches are still being written.
 * - Back-pressure: at most `maxInFlight` messages are fetched and unfinished; each fetch asks only
 *   for the room left, so a slow store makes the consumer fetch less, and memory stays bounded.
 * - A message is finished when it was written or filtered, or rejected and dead-lettered, or
 *   republished for retry. Rejections (poison) are final; a thrown ingest (store outage, bug) is
 *   transient: the micro-batch is bisected to isolate the failing messages, which then go to the
 *   retry tier for their attempt, or to the dead-letter stream after `maxAttempts`. A message that
 *   alone throws a permanent error (the message's own fault, or a write the store refuses) is
 *   dead-lettered at once: retrying it could only fail again.
 * - Fencing: results of a message whose partition was revoked since it was fetched are dropped.
 */
export class StreamConsumer {
  readonly #source: StreamSource;
  readonly #ingestor: Ingestor;
  readonly #decode: MessageDecoder;
  readonly #options: ConsumerOptions;
  readonly #logger: Logger | undefined;
  readonly #observer: ConsumerObserver;
  readonly #limiter: AdaptiveConcurrency;
  /** Watermark brokers commit a contiguous offset; per-message brokers need no tracking. */
  readonly #tracksOffsets: boolean;
  readonly #scheduler: KeyedScheduler<WorkItem>;
  readonly #partitions = new Map<string, PartitionState>();
  readonly #inFlight = new Set<WorkItem>();
  readonly #delayed = new Map<WorkItem, NodeJS.Timeout>();
  #roomWaiters: (() => void)[] = [];
  #stopping = false;
  #abandonAt = Number.POSITIVE_INFINITY;
  #loop: Promise<void> | undefined;
  #touchTimer: NodeJS.Timeout | undefined;

  constructor(deps: StreamConsumerDeps) {
    this.#source = deps.source;
    this.#ingestor = deps.ingestor;
    this.#decode = deps.decode;
    this.#options = deps.options;
    this.#logger = deps.logger;
    this.#observer = deps.observer ?? NO_OBSERVER;
    this.#tracksOffsets = deps.source.commitMode === 'watermark';
    const o = deps.options;
    this.#limiter = new AdaptiveConcurrency({
      min: o.concurrencyMin,
      max: o.concurrencyMax,
      initial: o.concurrencyInitial,
    });
    this.#scheduler = new KeyedScheduler<WorkItem>({
      run: (batch) => this.#runBatch(batch),
      limit: () => this.#limiter.limit,
      maxBatch: o.microBatchMax,
    });
  }

  get source(): StreamSource {
    return this.#source;
  }

  /** Messages fetched and not yet finished. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** The current adaptive concurrency limit. */
  get concurrency(): number {
    return this.#limiter.limit;
  }

  async start(): Promise<void> {
    await this.#source.start();
    this.#loop = this.#fetchLoop();
    if (this.#source.touch !== undefined) {
      const every = Math.max(100, this.#touchIntervalMs() / 2);
      this.#touchTimer = setInterval(() => void this.#touchSlow(), every);
      this.#touchTimer.unref();
    }
  }

  /**
   * Stops fetching, lets in-flight messages finish (up to `timeoutMs`), commits, closes the source.
   * Messages still waiting for a retry delay are left unacknowledged: the broker redelivers them.
   */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#abandonAt = Date.now() + timeoutMs;
    if (this.#touchTimer !== undefined) clearInterval(this.#touchTimer);
    await this.#source.drain().catch((err: unknown) => this.#logger?.warn({ err }, 'stream drain failed'));
    this.#wakeRoomWaiters();
    await this.#loop;
    for (const [item, timer] of this.#delayed) {
      clearTimeout(timer);
      this.#release(item);
    }
    this.#delayed.clear();
    await Promise.race([this.#scheduler.onIdle(), sleep(timeoutMs)]);
    await Promise.all([...this.#partitions.values()].map((p) => p.committing));
    await this.#source.close();
  }

  async #fetchLoop(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      const room = this.#options.maxInFlight - this.#inFlight.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
        continue;
      }
      let messages: SourceMessage[];
      try {
        messages = await this.#source.fetch({
          max: Math.min(this.#options.fetchMax, room),
          waitMs: this.#options.fetchWaitMs,
        });
        failures = 0;
      } catch (err) {
        if (this.#stopping) break;
        failures += 1;
        this.#observer.brokerError(this.#source.id, 'fetch');
        this.#logger?.warn({ err, source: this.#source.id }, 'stream fetch failed; backing off');
        await sleep(backoffMs(failures, 100));
        continue;
      }
      const now = Date.now();
      for (const msg of messages) this.#accept(msg, now);
      this.#scheduler.pump();
      this.#observer.inFlight(this.#source.id, this.#inFlight.size);
    }
  }

  #accept(msg: SourceMessage, now: number): void {
    let partition = this.#partitions.get(msg.partition);
    if (partition === undefined || msg.epoch > partition.epoch) {
      // A new assignment: whatever the previous epoch tracked belongs to another owner now.
      partition = {
        name: msg.partition,
        epoch: msg.epoch,
        tracker: new OffsetTracker(),
        committed: undefined,
        committing: undefined,
      };
      this.#partitions.set(msg.partition, partition);
    } else if (msg.epoch < partition.epoch) {
      this.#observer.outcome(this.#source.id, 'fenced', 1);
      return;
    }
    const decoded = this.#decode(msg);
    const item: WorkItem = {
      msg,
      event: decoded.event,
      key: decoded.key,
      eventTime: decoded.eventTime,
      partition,
      handle: this.#tracksOffsets ? partition.tracker.track(msg.offset) : -1,
      fetchedAt: now,
    };
    this.#inFlight.add(item);
    const due = msg.headers.dueAt;
    if (due !== undefined && due > now) {
      const timer = setTimeout(() => {
        this.#delayed.delete(item);
        this.#scheduler.push(item, item.key);
      }, due - now);
      this.#delayed.set(item, timer);
    } else {
      this.#scheduler.push(item, item.key, false); // the fetch loop pumps once per fetch
    }
  }

  async #runBatch(batch: WorkItem[]): Promise<void> {
    const current: WorkItem[] = [];
    for (const item of batch) {
      if (this.#isCurrent(item)) current.push(item);
      else this.#drop(item);
    }
    if (current.length > 0) await this.#ingestAndSettle(current, true);
    this.#scheduler.pump();
  }

  async #ingestAndSettle(items: WorkItem[], top: boolean): Promise<void> {
    const started = performance.now();
    let report;
    try {
      report = await this.#ingestor.ingest(
        items.map((item) => item.event),
        { origin: this.#source.id },
      );
    } catch (err) {
      if (top)
        this.#limiter.sample({
          latencyMs: performance.now() - started,
          backlog: this.#scheduler.queued,
          failed: true,
        });
      if (items.length > 1) {
        // Isolate the failing messages so that good ones are not sent to retry with them. The
        // halves run one after the other, keeping per-key order inside the micro-batch.
        const middle = Math.ceil(items.length / 2);
        await this.#ingestAndSettle(items.slice(0, middle), false);
        await this.#ingestAndSettle(items.slice(middle), false);
      } else if (isPermanent(err)) {
        await this.#deadLetter(items[0]!, err.code, err.message);
      } else {
        await this.#transientFailure(items[0]!, err);
      }
      return;
    }
    const latencyMs = performance.now() - started;
    if (top) {
      this.#limiter.sample({ latencyMs, backlog: this.#scheduler.queued });
      this.#observer.batch(this.#source.id, items.length, latencyMs, this.#limiter.limit);
    }
    const visibleAt = Date.now();
    const finished: WorkItem[] = [];
    const poison: Promise<void>[] = [];
    let written = 0;
    let filtered = 0;
    for (let i = 0; i < items.length; i += 1) {
      const item = items[i]!;
      const result = report.results[i];
      if (result?.outcome === 'rejected') {
        const first = result.rejections[0];
        poison.push(
          this.#deadLetter(item, first?.code ?? 'LARDER_ERR_INTERNAL', first?.message ?? 'rejected'),
        );
        continue;
      }
      if (result?.outcome === 'written') {
        written += 1;
        if (item.eventTime !== undefined)
          this.#observer.freshness(this.#source.id, visibleAt - item.eventTime);
      } else {
        filtered += 1;
      }
      finished.push(item);
    }
    if (written > 0) this.#observer.outcome(this.#source.id, 'written', written);
    if (filtered > 0) this.#observer.outcome(this.#source.id, 'filtered', filtered);
    await Promise.all([this.#ack(finished), ...poison]);
  }

  /** Poison or exhausted: publish to the dead-letter stream first, then ack. */
  async #deadLetter(item: WorkItem, code: string, error: string): Promise<void> {
    const attempts = item.msg.headers.attempts + 1;
    const info = { attempts, code, error, firstFailureAt: item.msg.headers.firstFailureAt ?? Date.now() };
    const ok = await this.#persist(item, 'dead-letter', () => this.#source.deadLetter(item.msg, info));
    if (!ok) return;
    this.#observer.outcome(
      this.#source.id,
      code === 'LARDER_ERR_RETRIES_EXHAUSTED' ? 'dead_lettered' : 'rejected',
      1,
    );
    await this.#ack([item]);
  }

  async #transientFailure(item: WorkItem, err: unknown): Promise<void> {
    const error = err instanceof Error ? err.message : String(err);
    const attempts = item.msg.headers.attempts + 1;
    if (attempts >= this.#options.maxAttempts) {
      this.#logger?.warn(
        { source: this.#source.id, offset: item.msg.offset, attempts, error },
        'retries exhausted; dead-lettering',
      );
      await this.#deadLetter(item, 'LARDER_ERR_RETRIES_EXHAUSTED', error);
      return;
    }
    const tiers = this.#options.retryDelaysMs;
    const delayMs = tiers[Math.min(attempts - 1, tiers.length - 1)] ?? 1_000;
    const code =
      typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'TRANSIENT';
    const info = {
      attempts,
      code,
      error,
      delayMs,
      firstFailureAt: item.msg.headers.firstFailureAt ?? Date.now(),
    };
    let disposition: 'republished' | 'redelivery' | undefined;
    const ok = await this.#persist(item, 'retry', async () => {
      disposition = await this.#source.retry(item.msg, info);
    });
    if (!ok) return;
    this.#observer.outcome(this.#source.id, 'retried', 1);
    if (disposition === 'republished') await this.#ack([item]);
    else this.#finish([item]);
  }

  async #ack(items: WorkItem[]): Promise<void> {
    const current = items.filter((item) => this.#isCurrent(item) || (this.#drop(item), false));
    if (current.length === 0) return;
    const ok = await this.#persist(current[0]!, 'ack', () =>
      this.#source.ack(current.map((item) => item.msg)),
    );
    if (!ok) {
      for (const item of current) this.#release(item);
      return;
    }
    this.#finish(current);
  }

  /**
   * Runs a broker call until it succeeds. Gives up (leaving the message unacknowledged, so the
   * broker redelivers it) when the partition was revoked or a stop's deadline passed.
   */
  async #persist(item: WorkItem, operation: string, call: () => Promise<void>): Promise<boolean> {
    for (let failures = 0; ; failures += 1) {
      if (!this.#isCurrent(item)) {
        this.#drop(item);
        return false;
      }
      try {
        await call();
        return true;
      } catch (err) {
        this.#observer.brokerError(this.#source.id, operation);
        this.#logger?.warn(
          { err, source: this.#source.id, operation },
          'stream broker call failed; retrying',
        );
        if (Date.now() >= this.#abandonAt) {
          this.#release(item);
          return false;
        }
        await sleep(backoffMs(failures, 50));
      }
    }
  }

  #finish(items: WorkItem[]): void {
    if (!this.#tracksOffsets) {
      for (const item of items) this.#release(item);
      return;
    }
    const moved = new Set<PartitionState>();
    for (const item of items) {
      if (item.partition.tracker.finish(item.handle)) moved.add(item.partition);
      this.#release(item);
    }
    for (const partition of moved) this.#commit(partition);
  }

  /** Commits the watermark; a commit in progress is followed by one more with the newest value. */
  #commit(partition: PartitionState): void {
    if (partition.committing !== undefined) return;
    partition.committing = (async () => {
      for (let failures = 0; ;) {
        const watermark = partition.tracker.watermark;
        if (watermark === undefined || watermark === partition.committed) break;
        if (
          this.#partitions.get(partition.name) !== partition ||
          !this.#source.isCurrent(partition.name, partition.epoch)
        )
          break;
        try {
          await this.#source.commit(partition.name, watermark, partition.epoch);
          partition.committed = watermark;
          failures = 0;
        } catch (err) {
          failures += 1;
          this.#observer.brokerError(this.#source.id, 'commit');
          this.#logger?.warn(
            { err, source: this.#source.id, partition: partition.name },
            'stream commit failed; retrying',
          );
          if (Date.now() >= this.#abandonAt) break;
          await sleep(backoffMs(failures, 50));
        }
      }
      partition.committing = undefined;
    })();
  }

  #isCurrent(item: WorkItem): boolean {
    return (
      this.#partitions.get(item.msg.partition) === item.partition &&
      this.#source.isCurrent(item.msg.partition, item.msg.epoch)
    );
  }

  #drop(item: WorkItem): void {
    this.#observer.outcome(this.#source.id, 'fenced', 1);
    this.#release(item);
  }

  #release(item: WorkItem): void {
    if (!this.#inFlight.delete(item)) return;
    if (this.#roomWaiters.length > 0 && this.#inFlight.size < this.#options.maxInFlight)
      this.#wakeRoomWaiters();
  }

  #wakeRoomWaiters(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  #touchIntervalMs(): number {
    return Math.min(this.#options.touchIntervalMs, this.#source.touchIntervalMs ?? Number.POSITIVE_INFINITY);
  }

  async #touchSlow(): Promise<void> {
    const before = Date.now() - this.#touchIntervalMs() / 2;
    const slow: SourceMessage[] = [];
    for (const item of this.#inFlight) if (item.fetchedAt < before) slow.push(item.msg);
    if (slow.length === 0 || this.#source.touch === undefined) return;
    try {
      await this.#source.touch(slow);
    } catch (err) {
      this.#observer.brokerError(this.#source.id, 'touch');
      this.#logger?.warn({ err, source: this.#source.id }, 'stream in-progress ack failed');
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * A failure no retry can fix: a LarderError of the event's own making (a 4xx code), or a write
 * the store refuses as invalid. Everything else (outages, timeouts, bugs) is worth retrying.
 */
function isPermanent(err: unknown): err is LarderError {
  if (!isLarderError(err)) return false;
  return (err.status >= 400 && err.status < 500) || err.code === 'LARDER_ERR_STORE_WRITE_INVALID';
}
