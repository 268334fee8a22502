/**
 * The DynamoDB online store: one table, works against AWS and DynamoDB-compatible endpoints
 * (dynalite, DynamoDB Local, ScyllaDB Alternator) unchanged. The item layout is described in
 * `dynamodb-items.ts`; this file holds the read and write logic.
 *
 * Costs, per call:
 * - `getStatic(n keys)`: ceil(n/100) BatchGetItem calls in parallel, unprocessed keys retried.
 * - `getRanges(q queries)`: q Query calls on the `by_time` index (bounded parallelism), each with
 *   `Limit = count`, continuing only past expired rows.
 * - `write`: appends go out as BatchWriteItem (25 per call); single statics are one conditional
 *   PutItem per pk (newer wins, no read); set/map statics read-modify-write under a version
 *   condition, per pk. Then every pk that got appends is trimmed to `maxCount` (see `#trim`).
 */
import type { AttributeValue, WriteRequest } from '@aws-sdk/client-dynamodb';
import { LarderError } from '../../errors.ts';
// Types only: the SDK is loaded on open(), so processes that never use DynamoDB never load it.
import type { DynamoTableClient, Item } from './dynamodb-client.ts';
import {
  decodeValue,
  encodeValue,
  expiresAt,
  expiryAttributes,
  isExpiredItem,
  rowFromItem,
  rowItem,
  staticKey,
  timeLowerBound,
} from './dynamodb-items.ts';
import { createDynamoMetrics, type DynamoMetrics } from './dynamodb-metrics.ts';
import { backoffDelayMs, DEFAULT_BACKOFF, sleep } from './dynamodb-retry.ts';
import { applyStaticWrite, readStatic, type StoredStatic } from '../static-value.ts';
import { checkWrites } from '../write-check.ts';
import type {
  ActionAppend,
  ActionRow,
  OnlineStore,
  RangeQuery,
  StaticValue,
  StaticWrite,
  StoreWrite,
} from '../online-store.ts';

export interface DynamoStoreOptions {
  readonly table: string;
  /** DynamoDB-compatible endpoint; undefined for AWS in `region`. */
  readonly endpoint?: string | undefined;
  /** Default `us-east-1`, or `AWS_REGION` when set. */
  readonly region?: string | undefined;
  /**
   * Strongly consistent reads. Default true: the cache's no-stale-fill protocol relies on a read
   * that starts after a write seeing that write. Turn off to halve read cost when no cache level
   * fills from this store.
   */
  readonly consistentReads?: boolean;
  /**
   * Items `purgeExpired` may scan per call. Default 0: native TTL deletes expired items and the
   * purge does nothing (a full-table scan on a large table costs far more than it saves). Set it
   * for emulators without native TTL (dynalite).
   */
  readonly purgeScanBudget?: number;
  /** Parallel Query / read-modify-write calls per batch. Default 32. */
  readonly concurrency?: number;
  readonly metrics?: DynamoMetrics;
  /** The clock for TTLs and `lastNSec`; tests pass a settable one. Default `Date.now`. */
  readonly now?: () => number;
}

/** Version-conflict retries of one set/map read-modify-write before giving up. */
const MAX_CAS_ATTEMPTS = 25;
/** Page size when reading past a pk's newest `maxCount` live rows to trim them. */
const TRIM_PAGE = 100;

export class DynamoStore implements OnlineStore {
  readonly name = 'dynamodb';
  readonly metrics: DynamoMetrics;
  readonly #options: DynamoStoreOptions;
  readonly #now: () => number;
  readonly #consistent: boolean;
  readonly #concurrency: number;
  #client: DynamoTableClient | undefined;
  #closed = false;
  #purgeCursor: Item | undefined;

  constructor(options: DynamoStoreOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#consistent = options.consistentReads ?? true;
    this.#concurrency = options.concurrency ?? 32;
    this.metrics = options.metrics ?? createDynamoMetrics();
  }

  /** Connects and checks that the table exists (`larder store init` creates it). */
  async open(): Promise<void> {
    if (this.#closed) throw new LarderError('LARDER_ERR_STORE_CLOSED', 'the DynamoDB store was closed');
    if (this.#client !== undefined) return;
    const { DynamoTableClient } = await import('./dynamodb-client.ts');
    const client = new DynamoTableClient({
      table: this.#options.table,
      endpoint: this.#options.endpoint,
      region: this.#options.region ?? process.env.AWS_REGION ?? 'us-east-1',
      metrics: this.metrics,
    });
    let status: string | undefined;
    try {
      status = await client.describe();
    } catch (err) {
      client.destroy();
      throw err;
    }
    if (status === undefined) {
      client.destroy();
      throw new LarderError(
        'LARDER_ERR_STORE_NOT_INITIALIZED',
        `DynamoDB table "${this.#options.table}" does not exist`,
        { details: { table: this.#options.table } },
      );
    }
    this.#client = client;
  }

  async write(writes: readonly StoreWrite[]): Promise<void> {
    const client = this.#ready();
    if (writes.length === 0) return;
    checkWrites(writes);
    const appends = new Map<string, ActionAppend>();
    const statics = new Map<string, StaticWrite[]>();
    for (const write of writes) {
      if (write.kind === 'action') {
        // BatchWriteItem refuses a key twice in one call; the later write of an event wins.
        const key = `${write.pk}\u0000${write.row.eventId}`;
        appends.delete(key);
        appends.set(key, write);
      } else {
        const list = statics.get(write.pk);
        if (list === undefined) statics.set(write.pk, [write]);
        else list.push(write);
      }
    }
    const requests: WriteRequest[] = [...appends.values()].map((w) => ({ PutRequest: { Item: rowItem(w) } }));
    await Promise.all([
      client.batchWrite(requests),
      forEachLimited([...statics.values()], this.#concurrency, (list) => this.#writeStatic(client, list)),
    ]);
    const maxCountByPk = new Map<string, number>();
    for (const w of appends.values()) maxCountByPk.set(w.pk, w.maxCount);
    await forEachLimited([...maxCountByPk], this.#concurrency, ([pk, maxCount]) =>
      this.#trim(client, pk, maxCount),
    );
  }

  async getStatic(pks: readonly string[]): Promise<(StaticValue | undefined)[]> {
    const client = this.#ready();
    if (pks.length === 0) return [];
    const distinct = [...new Set(pks)];
    const items = await client.batchGet(distinct.map(staticKey), this.#consistent);
    const now = this.#now();
    const byPk = new Map<string, StaticValue | undefined>();
    for (const item of items) {
      const pk = item.pk?.S;
      if (pk === undefined || isExpiredItem(item, now)) continue;
      byPk.set(pk, readStatic(storedOf(item), now));
    }
    return pks.map((pk) => byPk.get(pk));
  }

  async getRanges(queries: readonly RangeQuery[]): Promise<ActionRow[][]> {
    const client = this.#ready();
    const now = this.#now();
    const out: ActionRow[][] = queries.map(() => []);
    await forEachLimited(
      queries.map((q, i) => [q, i] as const),
      this.#concurrency,
      async ([query, i]) => {
        out[i] = await this.#readRange(client, query, now);
      },
    );
    return out;
  }

  async #readRange(client: DynamoTableClient, query: RangeQuery, now: number): Promise<ActionRow[]> {
    const rows: ActionRow[] = [];
    if (query.count <= 0) return rows;
    const minTs = query.lastNSec === undefined ? -(2 ** 53) : now - query.lastNSec * 1000;
    let startKey: Item | undefined;
    // Expired rows are the oldest ones, so they sit at the end of the page; the loop goes on only
    // when some were dropped and more rows follow.
    do {
      const page = await client.queryByTime({
        pk: query.pk,
        fromRk: timeLowerBound(minTs),
        limit: query.count - rows.length,
        consistent: this.#consistent,
        startKey,
      });
      for (const item of page.items) {
        if (!isExpiredItem(item, now)) rows.push(rowFromItem(item));
      }
      startKey = page.lastKey;
    } while (rows.length < query.count && startKey !== undefined);
    return rows;
  }

  /** Applies one pk's static writes, in order. */
  async #writeStatic(client: DynamoTableClient, writes: readonly StaticWrite[]): Promise<void> {
    const first = writes[0];
    if (first === undefined) return;
    if (writes.every((w) => w.container === 'single')) return this.#writeSingle(client, writes);
    return this.#writeContainer(client, writes);
  }

  /**
   * `single`: no read. The batch's writes fold into the one that wins by ts (ties to the later),
   * then one PutItem on condition that the stored value is absent, expired, of another kind, or
   * not newer. A failed condition means a newer value is already stored: the write is done.
   */
  async #writeSingle(client: DynamoTableClient, writes: readonly StaticWrite[]): Promise<void> {
    const now = this.#now();
    let stored: StoredStatic | undefined;
    for (const write of writes) stored = applyStaticWrite(stored, write, now) ?? stored;
    if (stored === undefined) return;
    const pk = (writes[0] as StaticWrite).pk;
    await client.putItem(staticItem(pk, stored, 1), {
      expression: 'attribute_not_exists(pk) OR t <= :ts OR xms <= :now OR k <> :kind',
      values: { ':ts': { N: String(stored[1]) }, ':now': { N: String(now) }, ':kind': { N: '0' } },
    });
  }

  /**
   * set / map: read the item, apply the writes, put it back on condition that its version did not
   * move (optimistic concurrency). A conflict re-reads and re-applies, with backoff and jitter.
   */
  async #writeContainer(client: DynamoTableClient, writes: readonly StaticWrite[]): Promise<void> {
    const pk = (writes[0] as StaticWrite).pk;
    for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
      const item = await client.getItem(staticKey(pk), true);
      const now = this.#now();
      const version = item === undefined ? 0 : Number(item.ver?.N ?? 0);
      let stored = item === undefined ? undefined : storedOf(item);
      let changed = false;
      for (const write of writes) {
        const next = applyStaticWrite(stored, write, now);
        if (next !== undefined) {
          stored = next;
          changed = true;
        }
      }
      if (!changed || stored === undefined) return;
      const ok = await client.putItem(
        staticItem(pk, stored, version + 1),
        item === undefined
          ? { expression: 'attribute_not_exists(pk)' }
          : { expression: 'ver = :ver', values: { ':ver': { N: String(version) } } },
      );
      if (ok) return;
      this.metrics.retried('PutItem.version');
      await sleep(backoffDelayMs(attempt, DEFAULT_BACKOFF));
    }
    throw new LarderError(
      'LARDER_ERR_STORE_CONFLICT',
      `static value ${pk} kept changing under ${MAX_CAS_ATTEMPTS} attempts`,
      {
        details: { pk },
      },
    );
  }

  /**
   * Trims a pk to its newest `maxCount` live rows, deleting expired rows met on the way too.
   * Cost, bounded: consistent Query pages over the newest `maxCount` rows and whatever lies past
   * them (DynamoDB bills the bytes read, about maxCount x row size / 4 KB read units, even with a
   * keys-only projection), then deletes what lies past (normally the few rows this batch pushed
   * out). It runs once per pk per write batch, so a batch of many appends to one pk pays once.
   * Safe under parallel writers: a row beyond position `maxCount` stays beyond it (newer rows only
   * push it further), and the last trim to start sees every append that finished before it.
   */
  async #trim(client: DynamoTableClient, pk: string, maxCount: number): Promise<void> {
    const fromRk = timeLowerBound(-(2 ** 53));
    const now = this.#now();
    const victims: WriteRequest[] = [];
    let live = 0;
    let startKey: Item | undefined;
    do {
      const page = await client.queryByTime({
        pk,
        fromRk,
        limit: live < maxCount ? maxCount - live + 1 : TRIM_PAGE,
        consistent: true,
        startKey,
        projection: 'pk, sk, xms',
      });
      for (const item of page.items) {
        const expired = isExpiredItem(item, now);
        if (!expired && live < maxCount) live++;
        else victims.push({ DeleteRequest: { Key: { pk: item.pk ?? { S: pk }, sk: item.sk ?? { S: '' } } } });
      }
      startKey = page.lastKey;
    } while (startKey !== undefined);
    if (victims.length > 0) await client.batchWrite(victims);
  }

  /**
   * With `purgeScanBudget > 0`, deletes expired items among the next `budget` scanned items,
   * continuing where the previous call stopped. Otherwise 0: native TTL does the work.
   */
  async purgeExpired(now: number = this.#now()): Promise<number> {
    const client = this.#ready();
    const budget = this.#options.purgeScanBudget ?? 0;
    if (budget <= 0) return 0;
    let removed = 0;
    let scanned = 0;
    do {
      const page = await client.scanExpired(now, this.#purgeCursor);
      scanned += page.keys.length + 1;
      this.#purgeCursor = page.lastKey;
      if (page.keys.length > 0) {
        await client.batchWrite(page.keys.map((key) => ({ DeleteRequest: { Key: key } })));
        removed += page.keys.length;
      }
    } while (this.#purgeCursor !== undefined && scanned < budget);
    return removed;
  }

  async ping(): Promise<boolean> {
    if (this.#client === undefined || this.#closed) return false;
    try {
      return (await this.#client.describe()) !== undefined;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client?.destroy();
    this.#client = undefined;
  }

  #ready(): DynamoTableClient {
    if (this.#client === undefined) {
      throw new LarderError(
        'LARDER_ERR_STORE_CLOSED',
        this.#closed ? 'the DynamoDB store was closed' : 'the DynamoDB store is not open; call open() first',
      );
    }
    return this.#client;
  }
}

/**
 * Creates the table (with its `by_time` index) when missing and turns on native TTL. Used by
 * `larder store init`; safe to run again.
 */
export async function initDynamoTable(options: {
  table: string;
  endpoint?: string | undefined;
  region?: string | undefined;
}): Promise<{ created: boolean; ttl: 'enabled' | 'already' | 'unsupported' }> {
  const { DynamoTableClient } = await import('./dynamodb-client.ts');
  const client = new DynamoTableClient({
    table: options.table,
    endpoint: options.endpoint,
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    metrics: createDynamoMetrics(),
  });
  try {
    const created = await client.createTable();
    // A new table is CREATING for a while on AWS; TTL can only be set once it is ACTIVE.
    for (let i = 0; i < 120 && (await client.describe()) !== 'ACTIVE'; i++) await sleep(500);
    const ttl = await client.enableTtl();
    return { created, ttl };
  } finally {
    client.destroy();
  }
}

function staticItem(pk: string, stored: StoredStatic, version: number): Item {
  const item: Item = {
    ...staticKey(pk),
    k: { N: String(stored[0]) },
    t: { N: String(stored[1]) },
    v: { B: encodeValue(stored) },
    ver: { N: String(version) },
  };
  if (stored[2] !== null) Object.assign(item, expiryAttributes(stored[2]));
  return item;
}

function storedOf(item: Item): StoredStatic | undefined {
  const bytes: AttributeValue['B'] = item.v?.B;
  if (bytes === undefined) return undefined;
  const stored = decodeValue(bytes) as StoredStatic;
  // xms is the authority on expiry (the same instant, kept where a filter can see it).
  stored[2] = expiresAt(item);
  return stored;
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
