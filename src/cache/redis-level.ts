/**
 * The Redis cache level (ioredis 5), shared by every Larder process.
 *
 * Reads: every lookup made in one tick (a request's `getStatic` and `getRanges` together) goes out
 * as ONE pipeline: one `MGET` for all static keys, one `ZREVRANGEBYSCORE … WITHSCORES LIMIT` per
 * action key. Writes, fills and leases are pipelined per call. Layout in `redis-codec.ts`, scripts
 * in `redis-scripts.ts`.
 *
 * Redis down: commands fail fast (no offline queue), the level reports misses and refuses fills,
 * `larder_cache_degraded{level="redis"}` is 1, and ioredis reconnects in the background. Redis
 * hung (connected, answering nothing): each command fails after `commandTimeoutMs`, and after a
 * few such round trips a circuit breaker (`level-breaker.ts`) takes the level out of the read path
 * until a probe answers again, so reads stop paying the timeout. Writes
 * that could not reach Redis while it was down are remembered (up to a bound) and their entries
 * dropped once it is back, so a cache that survived the outage does not keep serving the old value.
 */
import { Redis, type ChainableCommander } from 'ioredis';
import type {
  CacheLevel,
  FillEntry,
  FillLease,
  LevelChange,
  LevelReadRequest,
  LevelReadResult,
  RangeHit,
  StaticHit,
} from './cache-level.ts';
import type { CacheMetrics } from './cache-metrics.ts';
import { LevelBreaker } from './level-breaker.ts';
import {
  dataKey,
  decodeMeta,
  decodeRowMember,
  decodeStaticEntry,
  encodeMeta,
  encodeRowMember,
  encodeSinglePayload,
  encodeStaticEntry,
  isInfScore,
  leaseKey,
} from './redis-codec.ts';
import { APPLY_WRITE, FILL_ACTION, FILL_STATIC } from './redis-scripts.ts';

export interface RedisLevelOptions {
  readonly url: string;
  /** Key namespace, so several Larder deployments can share one Redis. Default `larder:`. */
  readonly namespace?: string;
  readonly metrics: CacheMetrics;
  /** A command slower than this counts as failed (the read path goes on without Redis). Default 250. */
  readonly commandTimeoutMs?: number;
  /** How long a fill lease lives, ms. Default 30 s. */
  readonly leaseTtlMs?: number;
  /** Writes remembered while Redis is unreachable, to drop their entries on reconnect. Default 100k. */
  readonly maxPendingDrops?: number;
  /** The layered store's clock, to turn expiry instants into TTLs. Default `Date.now`. */
  readonly now?: () => number;
  /** Consecutive failed round trips that take the level out of the read path. Default 3. */
  readonly breakerFailures?: number;
  /** While out, how often a PING asks whether Redis answers again, ms. Default 1000. */
  readonly breakerResetMs?: number;
  /** Called with connection state changes (for logs). */
  readonly onStateChange?: (state: 'ready' | 'down', detail?: string) => void;
}

type Scripted = ChainableCommander & {
  larderFillStatic(
    lease: string,
    data: string,
    token: string,
    entry: Buffer,
    ttlMs: number,
  ): ChainableCommander;
  larderFillAction(lease: string, data: string, ...args: (string | number | Buffer)[]): ChainableCommander;
  larderApply(lease: string, data: string, ...args: (string | number | Buffer)[]): ChainableCommander;
};

interface QueuedRead {
  readonly request: LevelReadRequest;
  readonly now: number;
  resolve(result: LevelReadResult): void;
}

const LEVEL = 'redis';

/** A key a write changed: its kind and pk (what other processes drop from their memory). */
export type WrittenKey = readonly ['static' | 'action', string];

/** Keys per published message: a message stays small whatever the batch. */
const KEYS_PER_MESSAGE = 2_000;

export class RedisCacheLevel implements CacheLevel {
  readonly name = 'redis' as const;
  readonly client: Redis;
  readonly #ns: string;
  readonly #metrics: CacheMetrics;
  readonly #leaseTtlMs: number;
  readonly #maxPendingDrops: number;
  readonly #pendingDrops = new Set<string>();
  readonly #onStateChange: RedisLevelOptions['onStateChange'];
  #queue: QueuedRead[] = [];
  #leaseSeq = 0;
  readonly #leaseSalt = Math.random().toString(36).slice(2, 10);
  #closed = false;
  readonly #now: () => number;
  readonly #breaker: LevelBreaker;

  constructor(options: RedisLevelOptions) {
    this.#now = options.now ?? Date.now;
    this.#ns = options.namespace ?? 'larder:';
    this.#metrics = options.metrics;
    this.#leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.#maxPendingDrops = options.maxPendingDrops ?? 100_000;
    this.#onStateChange = options.onStateChange;
    this.client = new Redis(options.url, {
      // Fail fast while disconnected instead of queueing: serving goes on from the store.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 250,
      lazyConnect: true,
      // Reconnect forever, backing off to one attempt a second.
      retryStrategy: (times) => Math.min(50 * times, 1000),
    });
    this.client.defineCommand('larderFillStatic', { numberOfKeys: 2, lua: FILL_STATIC });
    this.client.defineCommand('larderFillAction', { numberOfKeys: 2, lua: FILL_ACTION });
    this.client.defineCommand('larderApply', { numberOfKeys: 2, lua: APPLY_WRITE });
    this.#breaker = new LevelBreaker({
      failures: options.breakerFailures ?? 3,
      resetMs: options.breakerResetMs ?? 1000,
      probe: async () => (await this.client.ping()) === 'PONG',
      onChange: (open) => {
        if (this.#closed) return;
        this.#metrics.degraded(LEVEL, open || this.client.status !== 'ready');
        this.#onStateChange?.(open ? 'down' : 'ready', open ? 'not answering in time' : undefined);
        if (!open) void this.#replayDrops();
      },
    });
    this.client.on('ready', () => {
      if (this.#breaker.open) return; // connected, but still not answering: the probe decides
      this.#metrics.degraded(LEVEL, false);
      this.#onStateChange?.('ready');
      void this.#replayDrops();
    });
    this.client.on('close', () => {
      if (this.#closed) return;
      if (!this.#metrics.isDegraded(LEVEL)) this.#onStateChange?.('down');
      this.#metrics.degraded(LEVEL, true);
    });
    // Without a listener, ioredis reports connection errors on stderr; the gauge tells the story.
    this.client.on('error', () => {});
  }

  /** Connects; resolves even when Redis is down (the level then starts degraded and reconnects). */
  async open(): Promise<void> {
    this.#metrics.degraded(LEVEL, true);
    try {
      await this.client.connect();
    } catch (err) {
      this.#onStateChange?.('down', err instanceof Error ? err.message : String(err));
    }
  }

  available(): boolean {
    return this.client.status === 'ready' && !this.#breaker.open;
  }

  /** Tells the breaker how a round trip went: failed when it threw or every reply is an error. */
  #settled(replies: readonly [Error | null, unknown][] | null): void {
    if (replies === null || (replies.length > 0 && replies.every(([err]) => err !== null))) {
      this.#breaker.failed();
    } else {
      this.#breaker.succeeded();
    }
  }

  read(request: LevelReadRequest, now: number): Promise<LevelReadResult> {
    if (!this.available()) return Promise.resolve(allMisses(request));
    return new Promise((resolve) => {
      this.#queue.push({ request, now, resolve });
      if (this.#queue.length === 1) queueMicrotask(this.#flushReads);
    });
  }

  /** Sends every read queued this tick in one pipeline. */
  readonly #flushReads = (): void => {
    const queued = this.#queue;
    this.#queue = [];
    void this.#runReads(queued);
  };

  async #runReads(queued: readonly QueuedRead[]): Promise<void> {
    const pipeline = this.client.pipeline();
    const staticKeys: string[] = [];
    for (const q of queued) for (const pk of q.request.statics) staticKeys.push(dataKey(this.#ns, pk));
    if (staticKeys.length > 0) pipeline.mgetBuffer(staticKeys);
    for (const q of queued) {
      for (const r of q.request.ranges) {
        pipeline.zrevrangebyscoreBuffer(
          dataKey(this.#ns, r.pk),
          '+inf',
          minScore(r.minTs, r.expiredAtOrBefore),
          'WITHSCORES',
          'LIMIT',
          0,
          r.count + 1,
        );
      }
    }
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch {
      replies = null;
    }
    this.#settled(replies);
    if (replies === null) {
      this.#metrics.error(LEVEL, 'read');
      for (const q of queued) q.resolve(allMisses(q.request));
      return;
    }
    let at = 0;
    let staticValues: (Buffer | null)[] = [];
    if (staticKeys.length > 0) {
      const [err, value] = replies[at++] ?? [new Error('no reply'), null];
      if (err === null) staticValues = value as (Buffer | null)[];
      else this.#metrics.error(LEVEL, 'mget');
    }
    let s = 0;
    for (const q of queued) {
      const statics = q.request.statics.map((): StaticHit | undefined => {
        const buf = staticValues[s++];
        return buf == null ? undefined : decodeStaticEntry(buf);
      });
      const ranges = q.request.ranges.map((r): RangeHit | undefined => {
        const [err, value] = replies[at++] ?? [new Error('no reply'), null];
        if (err !== null) {
          this.#metrics.error(LEVEL, 'zrevrangebyscore');
          return undefined;
        }
        return decodeRange(value as Buffer[], r.count);
      });
      q.resolve({ statics, ranges });
    }
  }

  async lease(pks: readonly string[]): Promise<(FillLease | undefined)[]> {
    if (!this.available() || pks.length === 0) return pks.map(() => undefined);
    const tokens = pks.map(() => `${this.#leaseSalt}.${++this.#leaseSeq}`);
    const pipeline = this.client.pipeline();
    pks.forEach((pk, i) => pipeline.set(leaseKey(this.#ns, pk), tokens[i] as string, 'PX', this.#leaseTtlMs));
    try {
      const replies = (await pipeline.exec()) ?? [];
      this.#settled(replies);
      return tokens.map((t, i) => (replies[i]?.[0] == null ? t : undefined));
    } catch {
      this.#settled(null);
      this.#metrics.error(LEVEL, 'lease');
      return pks.map(() => undefined);
    }
  }

  async fill(entries: readonly FillEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    if (!this.available()) {
      this.#metrics.fills(LEVEL, 0, entries.length);
      return 0;
    }
    const pipeline = this.client.pipeline() as Scripted;
    const now = this.#now();
    for (const e of entries) {
      const ttlMs = Math.max(1, Math.round(e.life.expiresAt - now));
      const lease = leaseKey(this.#ns, e.pk);
      const data = dataKey(this.#ns, e.pk);
      if (e.kind === 'static') {
        pipeline.larderFillStatic(lease, data, e.lease, encodeStaticEntry(e.value, e.life), ttlMs);
      } else {
        const args: (string | number | Buffer)[] = [e.lease, encodeMeta(e.life), ttlMs];
        for (const row of e.rows.slice(0, e.maxCount)) args.push(row.ts, encodeRowMember(row));
        pipeline.larderFillAction(lease, data, ...args);
      }
    }
    try {
      const replies = (await pipeline.exec()) ?? [];
      this.#settled(replies);
      const landed = replies.filter(([err, v]) => err === null && v === 1).length;
      this.#metrics.fills(LEVEL, landed, entries.length - landed);
      return landed;
    } catch {
      this.#settled(null);
      this.#metrics.error(LEVEL, 'fill');
      return 0;
    }
  }

  async apply(changes: readonly LevelChange[]): Promise<void> {
    if (changes.length === 0) return;
    if (!this.available()) {
      this.#rememberDrops(changes.map((c) => c.write.pk));
      return;
    }
    const pipeline = this.client.pipeline() as Scripted;
    const now = this.#now();
    for (const { write, mode, expiresAt } of changes) {
      const lease = leaseKey(this.#ns, write.pk);
      const data = dataKey(this.#ns, write.pk);
      if (mode === 'write-through' && write.kind === 'action') {
        const ttlMs = Math.max(1, Math.round(expiresAt - now));
        pipeline.larderApply(
          lease,
          data,
          'append',
          write.maxCount,
          ttlMs,
          write.row.ts,
          encodeRowMember(write.row),
        );
      } else if (
        mode === 'write-through' &&
        write.kind === 'static' &&
        write.container === 'single' &&
        write.mutation.op === 'set'
      ) {
        pipeline.larderApply(lease, data, 'single', write.ts, encodeSinglePayload(write.mutation.value));
      } else {
        pipeline.larderApply(lease, data, 'drop');
      }
    }
    try {
      const replies = (await pipeline.exec()) ?? [];
      this.#settled(replies);
      const failed = changes.filter((_, i) => replies[i]?.[0] != null).map((c) => c.write.pk);
      if (failed.length > 0) {
        this.#metrics.error(LEVEL, 'apply');
        this.#rememberDrops(failed);
      }
    } catch {
      this.#settled(null);
      this.#metrics.error(LEVEL, 'apply');
      this.#rememberDrops(changes.map((c) => c.write.pk));
    }
  }

  /**
   * Tells the other processes sharing this Redis which keys a durable write changed, so that
   * they drop them from their in-process memory (the hot caches, the local level) at once. Best
   * effort: a message lost while Redis is unreachable leaves them to their TTLs.
   */
  publishWritten(keys: readonly WrittenKey[]): void {
    if (keys.length === 0 || !this.available()) return;
    for (let i = 0; i < keys.length; i += KEYS_PER_MESSAGE) {
      const message = JSON.stringify({ from: this.#leaseSalt, keys: keys.slice(i, i + KEYS_PER_MESSAGE) });
      this.client.publish(this.#writtenChannel, message).catch(() => this.#metrics.error(LEVEL, 'publish'));
    }
  }

  /**
   * Calls `listener` with the keys other processes wrote (`publishWritten`), and with `'all'`
   * once the subscription is live and whenever it was lost and came back: what was held before
   * may have missed messages.
   * One subscriber connection per call; returns the unsubscriber.
   */
  subscribeWritten(listener: (keys: readonly WrittenKey[] | 'all') => void): () => void {
    const subscriber = this.client.duplicate({
      enableOfflineQueue: true,
      lazyConnect: true,
      connectionName: `${this.#ns}written`,
    });
    subscriber.on('error', () => {});
    let connectedBefore = false;
    subscriber.on('ready', () => {
      if (connectedBefore) listener('all');
      connectedBefore = true;
    });
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.#writtenChannel) return;
      const keys = writtenKeysOf(text, this.#leaseSalt);
      if (keys === undefined || keys.length === 0) return;
      // Larder publishes at most KEYS_PER_MESSAGE a message: anything bigger is dropped whole.
      listener(keys.length > KEYS_PER_MESSAGE ? 'all' : keys);
    });
    subscriber
      .connect()
      .then(() => subscriber.subscribe(this.#writtenChannel))
      .then(() => listener('all'))
      .catch(() => this.#metrics.error(LEVEL, 'subscribe'));
    return () => subscriber.disconnect();
  }

  get #writtenChannel(): string {
    return `${this.#ns}written`;
  }

  #rememberDrops(pks: readonly string[]): void {
    for (const pk of pks) {
      if (this.#pendingDrops.size >= this.#maxPendingDrops) {
        this.#metrics.error(LEVEL, 'pending-drops-overflow');
        return;
      }
      this.#pendingDrops.add(pk);
    }
  }

  /** After a reconnect: drop entries whose writes Redis missed while it was unreachable. */
  async #replayDrops(): Promise<void> {
    if (this.#pendingDrops.size === 0) return;
    const pks = [...this.#pendingDrops];
    const pipeline = this.client.pipeline();
    for (const pk of pks) pipeline.del(dataKey(this.#ns, pk), leaseKey(this.#ns, pk));
    try {
      const replies = (await pipeline.exec()) ?? [];
      pks.forEach((pk, i) => {
        if (replies[i]?.[0] == null) this.#pendingDrops.delete(pk);
      });
    } catch {
      this.#metrics.error(LEVEL, 'replay-drops');
    }
  }

  /** Writes still to be dropped from Redis once it is reachable. */
  pendingDrops(): number {
    return this.#pendingDrops.size;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#breaker.stop();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

/** The lower score bound: `ts >= minTs` and `ts > expiredAtOrBefore`, whichever cuts more. */
function minScore(minTs: number, expiredAtOrBefore: number): string {
  if (minTs === -Infinity && expiredAtOrBefore === -Infinity) return '-inf';
  return expiredAtOrBefore >= minTs ? `(${expiredAtOrBefore}` : String(minTs);
}

/** The keys of a `publishWritten` message from another process; undefined for anything else. */
function writtenKeysOf(text: string, self: string): WrittenKey[] | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { from, keys } = (message ?? {}) as { from?: unknown; keys?: unknown };
  if (from === self || !Array.isArray(keys)) return undefined;
  return keys.filter(
    (k): k is WrittenKey =>
      Array.isArray(k) && (k[0] === 'static' || k[0] === 'action') && typeof k[1] === 'string',
  );
}

function allMisses(request: LevelReadRequest): LevelReadResult {
  return { statics: request.statics.map(() => undefined), ranges: request.ranges.map(() => undefined) };
}

/** `[member, score, member, score, ...]` → a hit when the meta member (+inf) leads, else a miss. */
function decodeRange(reply: Buffer[], count: number): RangeHit | undefined {
  const firstMember = reply[0];
  const firstScore = reply[1];
  if (firstMember === undefined || firstScore === undefined || !isInfScore(firstScore)) return undefined;
  const fresh = decodeMeta(firstMember);
  const rows = [];
  for (let i = 2; i + 1 < reply.length && rows.length < count; i += 2) {
    rows.push(decodeRowMember(reply[i] as Buffer, reply[i + 1] as Buffer));
  }
  return { rows, ...fresh };
}
