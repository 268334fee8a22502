import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type * as DynamoModule from '@aws-sdk/client-dynamodb';
import type {
  AttributeValue,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Shard } from '@aws-sdk/client-kinesis';
import { parentsEnded, type ShardCoordinator, type ShardGrant } from './kinesis-coordinator.ts';

/** Where the lease table is and how leases behave (`streams.<name>.options.leaseTable`, ...). */
export interface LeaseSettings {
  readonly table: string;
  /** DynamoDB-compatible endpoint; undefined for AWS. */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** A lease whose counter did not move this long (as this process saw it) is taken over. */
  readonly leaseDurationMs: number;
}

/** One row of the lease table: a shard of one stream, read by one consumer group. */
interface LeaseRow {
  readonly shard: string;
  readonly owner: string | undefined;
  readonly counter: number;
  readonly sequence: string | undefined;
  readonly ended: boolean;
}

type Item = Record<string, AttributeValue>;
type DynamoSdk = typeof DynamoModule;

/**
 * Kinesis shard leases in a DynamoDB table, so that several `larder ingest` processes share the
 * shards of a stream (as the KCL does). One item per shard, keyed `pk = <group>/<stream>`,
 * `sk = <shardId>`: the owner, a counter the owner bumps on every renewal, the checkpoint (the last
 * committed sequence number) and whether the shard ended.
 *
 * - Renewal: the owner adds 1 to the counter, on condition that it still owns the lease. A refused
 *   renewal means the lease was taken: the shard stops here.
 * - Expiry, without trusting clocks: a lease whose counter this process has seen unchanged for
 *   `leaseDurationMs` of its own time is expired, and is taken on condition that the counter is
 *   still the one seen. A lease this process could not renew for `leaseDurationMs` it gives up by
 *   itself, since others now count it expired.
 * - Balance: each process aims at `ceil(shards / processes)` leases (processes: the owners of live
 *   leases, and itself). It takes free and expired leases first; short of its share, it takes one
 *   lease per round from the process holding the most, when that one holds two or more above it.
 * - Checkpoints: a commit is written with the next renewal, in the same conditional write (one
 *   write per shard per round, however often the consumer commits); stopping writes the last.
 * - Fencing: a checkpoint is written on condition of ownership. A process that lost a lease cannot
 *   move its position, and its in-flight results are dropped (the new owner redoes them from the
 *   checkpoint; idempotent writes absorb what was written twice).
 * - Stopping: the leases are released (owner removed), so the others take them at their next round.
 */
export class LeaseCoordinator implements ShardCoordinator {
  readonly worker = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly #client: DynamoDBClient;
  readonly #sdk: DynamoSdk;
  readonly #settings: LeaseSettings;
  readonly #pk: string;
  /** Leases held: shard -> when this process last renewed (or took) it. */
  readonly #held = new Map<string, number>();
  /** Checkpoints committed and not written yet: they go out with the next renewal. */
  readonly #pending = new Map<string, string>();
  /** Other owners' leases as last seen: shard -> owner, counter and when the counter last moved. */
  readonly #seen = new Map<string, { owner: string | undefined; counter: number; at: number }>();

  private constructor(sdk: DynamoSdk, client: DynamoDBClient, settings: LeaseSettings, pk: string) {
    this.#sdk = sdk;
    this.#client = client;
    this.#settings = settings;
    this.#pk = pk;
  }

  /** Connects, and creates the table (on-demand capacity) when it does not exist yet. */
  static async open(settings: LeaseSettings, pk: string): Promise<LeaseCoordinator> {
    // Loaded here: processes that use no lease table never load the DynamoDB SDK.
    const sdk = await import('@aws-sdk/client-dynamodb');
    const { NodeHttpHandler } = await import('@smithy/node-http-handler');
    const client = new sdk.DynamoDBClient({
      region: settings.region,
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
      requestHandler: new NodeHttpHandler(),
    });
    try {
      await ensureTable(sdk, client, settings.table);
    } catch (err) {
      client.destroy();
      throw err;
    }
    return new LeaseCoordinator(sdk, client, settings, pk);
  }

  /** Leases this process could not renew for a whole lease duration: to stop reading at once. */
  lapsed(now = Date.now()): string[] {
    const out: string[] = [];
    for (const [shard, at] of this.#held) {
      if (now - at < this.#settings.leaseDurationMs) continue;
      this.#held.delete(shard);
      this.#pending.delete(shard);
      out.push(shard);
    }
    return out;
  }

  async assign(shards: readonly Shard[], reading: ReadonlySet<string>) {
    const now = Date.now();
    const stop: string[] = [...reading].filter((id) => !this.#held.has(id));
    const rows = new Map((await this.#rows()).map((r) => [r.shard, r]));

    stop.push(...(await this.renewAll()));

    // The others' leases: a counter that moved restarts the expiry clock.
    for (const row of rows.values()) {
      if (row.owner === this.worker) continue;
      const seen = this.#seen.get(row.shard);
      if (seen === undefined || seen.counter !== row.counter || seen.owner !== row.owner)
        this.#seen.set(row.shard, { owner: row.owner, counter: row.counter, at: now });
    }
    const expired = (row: LeaseRow): boolean =>
      row.owner === undefined ||
      now - (this.#seen.get(row.shard)?.at ?? now) >= this.#settings.leaseDurationMs;

    const listed = new Set(shards.map((s) => s.ShardId!));
    const ended = (id: string): boolean => rows.get(id)?.ended === true;
    const eligible = shards
      .map((s) => s.ShardId!)
      .filter(
        (id) =>
          !ended(id) &&
          parentsEnded(
            shards.find((s) => s.ShardId === id)!,
            listed,
            ended,
          ),
      );
    const owners = new Map<string, string[]>();
    for (const id of eligible) {
      const row = rows.get(id);
      if (row === undefined || row.owner === undefined || row.owner === this.worker || expired(row)) continue;
      owners.set(row.owner, [...(owners.get(row.owner) ?? []), id]);
    }
    const mine = eligible.filter((id) => this.#held.has(id));
    const target = Math.ceil(eligible.length / (owners.size + 1));

    const start: ShardGrant[] = [];
    const take = async (id: string): Promise<void> => {
      const granted = await this.#take(id, rows.get(id));
      if (granted === undefined) return;
      this.#held.set(id, Date.now());
      mine.push(id);
      start.push({ id, checkpoint: granted.sequence });
    };
    const free = eligible.filter((id) => {
      if (this.#held.has(id)) return false;
      const row = rows.get(id);
      return row === undefined || expired(row);
    });
    for (const id of free) {
      if (mine.length >= target) break;
      await take(id);
    }
    if (mine.length < target) {
      // Short of a fair share with nothing free: one lease from the busiest process, if it is ahead by two.
      const [, theirs] = [...owners].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
      if (theirs !== undefined && theirs.length >= mine.length + 2) await take(theirs[0]!);
    }
    // Held shards not read yet (taken in an earlier round whose reply was lost) start too.
    for (const id of mine)
      if (!reading.has(id) && !start.some((g) => g.id === id))
        start.push({ id, checkpoint: rows.get(id)?.sequence });
    return { start, stop };
  }

  /**
   * Renews every lease held, writing its pending checkpoint with the renewal (one write per shard
   * per round, however often the consumer commits); returns the leases another process took.
   */
  async renewAll(): Promise<string[]> {
    const lost: string[] = [];
    for (const shard of [...this.#held.keys()]) {
      const sequence = this.#pending.get(shard);
      if (await this.#renew(shard, sequence)) {
        this.#held.set(shard, Date.now());
        if (this.#pending.get(shard) === sequence) this.#pending.delete(shard);
      } else {
        this.#held.delete(shard);
        this.#pending.delete(shard);
        lost.push(shard);
      }
    }
    return lost;
  }

  /**
   * A committed position is written with the next renewal (so a crash redoes at most a quarter of
   * `leaseDuration`); an ended shard is written at once, so that its children can start.
   */
  async advance(shardId: string, sequence: string | undefined, ended: boolean): Promise<boolean> {
    if (!this.#held.has(shardId)) return false;
    if (!ended) {
      if (sequence !== undefined) this.#pending.set(shardId, sequence);
      return true;
    }
    sequence ??= this.#pending.get(shardId);
    this.#pending.delete(shardId);
    const sets: string[] = [];
    const values: Item = { ':me': { S: this.worker } };
    if (sequence !== undefined) {
      sets.push('seq = :seq');
      values[':seq'] = { S: sequence };
    }
    sets.push('ended = :ended');
    values[':ended'] = { BOOL: true };
    const ok = await this.#conditional(
      new this.#sdk.UpdateItemCommand({
        TableName: this.#settings.table,
        Key: this.#key(shardId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: '#owner = :me',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: values,
      }),
    );
    this.#held.delete(shardId);
    return ok;
  }

  /**
   * Writes the pending checkpoints and releases every lease held (the others take them at their
   * next round), and disconnects.
   */
  async close(): Promise<void> {
    for (const shard of [...this.#held.keys()]) {
      const sequence = this.#pending.get(shard);
      this.#held.delete(shard);
      this.#pending.delete(shard);
      await this.#conditional(
        new this.#sdk.UpdateItemCommand({
          TableName: this.#settings.table,
          Key: this.#key(shard),
          UpdateExpression: `REMOVE #owner SET #counter = #counter + :one${sequence === undefined ? '' : ', seq = :seq'}`,
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner', '#counter': 'counter' },
          ExpressionAttributeValues: {
            ':me': { S: this.worker },
            ':one': { N: '1' },
            ...(sequence === undefined ? {} : { ':seq': { S: sequence } }),
          },
        }),
      ).catch(() => undefined);
    }
    this.#client.destroy();
  }

  #key(shard: string): Item {
    return { pk: { S: this.#pk }, sk: { S: shard } };
  }

  async #rows(): Promise<LeaseRow[]> {
    const out: LeaseRow[] = [];
    let start: Item | undefined;
    do {
      const page = await this.#client.send(
        new this.#sdk.QueryCommand({
          TableName: this.#settings.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: this.#pk } },
          ConsistentRead: true,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      for (const item of page.Items ?? []) out.push(rowOf(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return out;
  }

  #renew(shard: string, sequence: string | undefined): Promise<boolean> {
    return this.#conditional(
      new this.#sdk.UpdateItemCommand({
        TableName: this.#settings.table,
        Key: this.#key(shard),
        UpdateExpression: `SET #counter = #counter + :one${sequence === undefined ? '' : ', seq = :seq'}`,
        ConditionExpression: '#owner = :me',
        ExpressionAttributeNames: { '#owner': 'owner', '#counter': 'counter' },
        ExpressionAttributeValues: {
          ':me': { S: this.worker },
          ':one': { N: '1' },
          ...(sequence === undefined ? {} : { ':seq': { S: sequence } }),
        },
      }),
    );
  }

  /** Takes a lease: a new one if there is no row, else on condition that its counter did not move. */
  async #take(
    shard: string,
    row: LeaseRow | undefined,
  ): Promise<{ sequence: string | undefined } | undefined> {
    if (row === undefined) {
      const ok = await this.#conditional(
        new this.#sdk.PutItemCommand({
          TableName: this.#settings.table,
          Item: { ...this.#key(shard), owner: { S: this.worker }, counter: { N: '1' } },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return ok ? { sequence: undefined } : undefined;
    }
    try {
      const out = await this.#client.send(
        new this.#sdk.UpdateItemCommand({
          TableName: this.#settings.table,
          Key: this.#key(shard),
          UpdateExpression: 'SET #owner = :me, #counter = #counter + :one',
          ConditionExpression: '#counter = :seen',
          ExpressionAttributeNames: { '#owner': 'owner', '#counter': 'counter' },
          ExpressionAttributeValues: {
            ':me': { S: this.worker },
            ':one': { N: '1' },
            ':seen': { N: String(row.counter) },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      // The checkpoint as of the take: the previous owner may have moved it since the rows were read.
      return { sequence: out.Attributes === undefined ? row.sequence : rowOf(out.Attributes).sequence };
    } catch (err) {
      if (err instanceof this.#sdk.ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  /** Sends a conditional write: true if it was applied, false if its condition failed. */
  async #conditional(command: UpdateItemCommand | PutItemCommand): Promise<boolean> {
    try {
      await (command instanceof this.#sdk.PutItemCommand
        ? this.#client.send(command)
        : this.#client.send(command as UpdateItemCommand));
      return true;
    } catch (err) {
      if (err instanceof this.#sdk.ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}

function rowOf(item: Item): LeaseRow {
  return {
    shard: item.sk?.S ?? '',
    owner: item.owner?.S,
    counter: Number(item.counter?.N ?? 0),
    sequence: item.seq?.S,
    ended: item.ended?.BOOL === true,
  };
}

async function ensureTable(sdk: DynamoSdk, client: DynamoDBClient, table: string): Promise<void> {
  const status = async (): Promise<string | undefined> => {
    try {
      const d = await client.send(new sdk.DescribeTableCommand({ TableName: table }));
      return d.Table?.TableStatus;
    } catch (err) {
      if (err instanceof sdk.ResourceNotFoundException) return undefined;
      throw err;
    }
  };
  if ((await status()) === undefined) {
    try {
      await client.send(
        new sdk.CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (err) {
      // Another process created it at the same moment.
      if (!(err instanceof sdk.ResourceInUseException)) throw err;
    }
  }
  for (let i = 0; i < 240 && (await status()) !== 'ACTIVE'; i += 1)
    await new Promise((r) => setTimeout(r, 250));
}
