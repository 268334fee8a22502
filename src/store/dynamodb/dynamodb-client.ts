/**
 * A narrow wrapper around the DynamoDB SDK client: the handful of calls the store makes, each with
 * throttling/transient retries (backoff + jitter, counted in metrics) and the batch-call loops that
 * resend `UnprocessedKeys` / `UnprocessedItems`. Only this file and `dynamodb-store.ts` touch
 * `@aws-sdk/*`, so the rest of Larder never sees SDK types.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type KeysAndAttributes,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { LarderError } from '../../errors.ts';
import {
  backoffDelayMs,
  DEFAULT_BACKOFF,
  isThrottle,
  isTransient,
  sleep,
  type BackoffOptions,
} from './dynamodb-retry.ts';
import type { DynamoMetrics } from './dynamodb-metrics.ts';
import { TIME_INDEX } from './dynamodb-items.ts';

export type Item = Record<string, AttributeValue>;

export interface DynamoTableOptions {
  readonly table: string;
  /** DynamoDB-compatible endpoint (emulators, Alternator, ...). Undefined: AWS for the region. */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly metrics: DynamoMetrics;
  readonly backoff?: BackoffOptions;
}

/** Largest batches DynamoDB accepts. */
const BATCH_GET_MAX = 100;
const BATCH_WRITE_MAX = 25;

export interface ConditionSpec {
  readonly expression: string;
  readonly names?: Record<string, string>;
  readonly values?: Item;
}

export class DynamoTableClient {
  readonly table: string;
  readonly #client: DynamoDBClient;
  readonly #metrics: DynamoMetrics;
  readonly #backoff: BackoffOptions;

  constructor(options: DynamoTableOptions) {
    this.table = options.table;
    this.#metrics = options.metrics;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    const hasEnvCredentials =
      process.env.AWS_ACCESS_KEY_ID !== undefined || process.env.AWS_PROFILE !== undefined;
    this.#client = new DynamoDBClient({
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      // Emulators accept any key; without this a laptop with no AWS setup could not talk to one.
      ...(options.endpoint !== undefined && !hasEnvCredentials
        ? { credentials: { accessKeyId: 'larder', secretAccessKey: 'larder' } }
        : {}),
      // Retries are ours: they count throttling in a metric and use full jitter.
      maxAttempts: 1,
    });
  }

  /** Sends one command, retrying throttling and transient failures. */
  async #send<T>(op: string, run: () => Promise<T>, expected: readonly string[] = []): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await run();
      } catch (err) {
        // Outcomes the caller handles (a failed condition, a missing table) come back as they are.
        if (err instanceof Error && expected.includes(err.name)) throw err;
        if (isThrottle(err)) this.#metrics.throttled(op);
        if (!isTransient(err) || attempt >= this.#backoff.maxAttempts) throw wrapError(op, this.table, err);
        this.#metrics.retried(op);
        await sleep(backoffDelayMs(attempt, this.#backoff));
      }
    }
  }

  /** Newest-first rows of one pk on the `by_time` index, from `rk >= fromRk`. */
  async queryByTime(input: {
    pk: string;
    fromRk: string;
    limit: number;
    consistent: boolean;
    startKey?: Item | undefined;
    projection?: string;
  }): Promise<{ items: Item[]; lastKey: Item | undefined }> {
    const out = await this.#send('Query', () =>
      this.#client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: TIME_INDEX,
          KeyConditionExpression: 'pk = :pk AND rk >= :from',
          ExpressionAttributeValues: { ':pk': { S: input.pk }, ':from': { S: input.fromRk } },
          ScanIndexForward: false,
          Limit: input.limit,
          ConsistentRead: input.consistent,
          ...(input.startKey === undefined ? {} : { ExclusiveStartKey: input.startKey }),
          ...(input.projection === undefined ? {} : { ProjectionExpression: input.projection }),
        }),
      ),
    );
    return { items: out.Items ?? [], lastKey: out.LastEvaluatedKey };
  }

  /** Items for distinct keys, in no particular order; absent keys are simply missing. */
  async batchGet(keys: readonly Item[], consistent: boolean): Promise<Item[]> {
    const chunks: Item[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) chunks.push(keys.slice(i, i + BATCH_GET_MAX));
    const results = await Promise.all(chunks.map((chunk) => this.#batchGetChunk(chunk, consistent)));
    return results.flat();
  }

  async #batchGetChunk(keys: Item[], consistent: boolean): Promise<Item[]> {
    const found: Item[] = [];
    let pending: KeysAndAttributes | undefined = { Keys: keys, ConsistentRead: consistent };
    for (let attempt = 1; pending !== undefined && (pending.Keys?.length ?? 0) > 0; attempt += 1) {
      const request: KeysAndAttributes = pending;
      const out = await this.#send('BatchGetItem', () =>
        this.#client.send(new BatchGetItemCommand({ RequestItems: { [this.table]: request } })),
      );
      found.push(...(out.Responses?.[this.table] ?? []));
      pending = out.UnprocessedKeys?.[this.table];
      const left = pending?.Keys?.length ?? 0;
      if (left === 0) break;
      this.#metrics.unprocessed('BatchGetItem', left);
      if (attempt >= this.#backoff.maxAttempts) {
        throw new LarderError(
          'LARDER_ERR_STORE_UNAVAILABLE',
          `DynamoDB left ${left} keys unprocessed after ${attempt} attempts`,
          {
            details: { table: this.table },
          },
        );
      }
      await sleep(backoffDelayMs(attempt, this.#backoff));
    }
    return found;
  }

  /** Puts and deletes; the caller guarantees no key appears twice. */
  async batchWrite(requests: readonly WriteRequest[]): Promise<void> {
    const chunks: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX)
      chunks.push(requests.slice(i, i + BATCH_WRITE_MAX));
    await Promise.all(chunks.map((chunk) => this.#batchWriteChunk(chunk)));
  }

  async #batchWriteChunk(requests: WriteRequest[]): Promise<void> {
    let pending: WriteRequest[] = requests;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const batch = pending;
      const out = await this.#send('BatchWriteItem', () =>
        this.#client.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: batch } })),
      );
      pending = out.UnprocessedItems?.[this.table] ?? [];
      if (pending.length === 0) break;
      this.#metrics.unprocessed('BatchWriteItem', pending.length);
      if (attempt >= this.#backoff.maxAttempts) {
        throw new LarderError(
          'LARDER_ERR_STORE_UNAVAILABLE',
          `DynamoDB left ${pending.length} writes unprocessed after ${attempt} attempts`,
          { details: { table: this.table } },
        );
      }
      await sleep(backoffDelayMs(attempt, this.#backoff));
    }
  }

  async getItem(key: Item, consistent: boolean): Promise<Item | undefined> {
    const out = await this.#send('GetItem', () =>
      this.#client.send(new GetItemCommand({ TableName: this.table, Key: key, ConsistentRead: consistent })),
    );
    return out.Item;
  }

  /** A conditional put. Resolves false when the condition did not hold (ConditionalCheckFailed). */
  async putItem(item: Item, condition: ConditionSpec | undefined): Promise<boolean> {
    try {
      await this.#send(
        'PutItem',
        () =>
          this.#client.send(
            new PutItemCommand({
              TableName: this.table,
              Item: item,
              ...(condition === undefined
                ? {}
                : {
                    ConditionExpression: condition.expression,
                    ...(condition.names === undefined ? {} : { ExpressionAttributeNames: condition.names }),
                    ...(condition.values === undefined
                      ? {}
                      : { ExpressionAttributeValues: condition.values }),
                  }),
            }),
          ),
        ['ConditionalCheckFailedException'],
      );
      return true;
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  /** One page of a filtered scan (keys only), for purging expired items where native TTL is off. */
  async scanExpired(
    nowMs: number,
    startKey: Item | undefined,
  ): Promise<{ keys: Item[]; lastKey: Item | undefined }> {
    const out = await this.#send('Scan', () =>
      this.#client.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'xms <= :now',
          ExpressionAttributeValues: { ':now': { N: String(nowMs) } },
          ProjectionExpression: 'pk, sk',
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      ),
    );
    return { keys: out.Items ?? [], lastKey: out.LastEvaluatedKey };
  }

  /** Table status, or undefined when the table does not exist. */
  async describe(): Promise<string | undefined> {
    try {
      const out = await this.#send(
        'DescribeTable',
        () => this.#client.send(new DescribeTableCommand({ TableName: this.table })),
        ['ResourceNotFoundException'],
      );
      return out.Table?.TableStatus ?? 'UNKNOWN';
    } catch (err) {
      if (err instanceof Error && err.name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  }

  /** Creates the table (on-demand capacity). Resolves false when it already existed. */
  async createTable(): Promise<boolean> {
    try {
      await this.#send(
        'CreateTable',
        () =>
          this.#client.send(
            new CreateTableCommand({
              TableName: this.table,
              BillingMode: 'PAY_PER_REQUEST',
              AttributeDefinitions: [
                { AttributeName: 'pk', AttributeType: 'S' },
                { AttributeName: 'sk', AttributeType: 'S' },
                { AttributeName: 'rk', AttributeType: 'S' },
              ],
              KeySchema: [
                { AttributeName: 'pk', KeyType: 'HASH' },
                { AttributeName: 'sk', KeyType: 'RANGE' },
              ],
              // Sparse: only action rows carry `rk`. ALL projection, so a range read never goes
              // back to the table for the values.
              LocalSecondaryIndexes: [
                {
                  IndexName: TIME_INDEX,
                  KeySchema: [
                    { AttributeName: 'pk', KeyType: 'HASH' },
                    { AttributeName: 'rk', KeyType: 'RANGE' },
                  ],
                  Projection: { ProjectionType: 'ALL' },
                },
              ],
            }),
          ),
        ['ResourceInUseException'],
      );
      return true;
    } catch (err) {
      if (err instanceof Error && err.name === 'ResourceInUseException') return false;
      throw err;
    }
  }

  /**
   * Turns on native TTL on attribute `exp`. Resolves 'enabled', 'already' or 'unsupported' (some
   * emulators, dynalite among them, lack UpdateTimeToLive; reads filter expired items anyway).
   */
  async enableTtl(): Promise<'enabled' | 'already' | 'unsupported'> {
    try {
      await this.#send(
        'UpdateTimeToLive',
        () =>
          this.#client.send(
            new UpdateTimeToLiveCommand({
              TableName: this.table,
              TimeToLiveSpecification: { AttributeName: 'exp', Enabled: true },
            }),
          ),
        ['UnknownOperationException', 'ValidationException'],
      );
      return 'enabled';
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      if (err.name === 'UnknownOperationException') return 'unsupported';
      if (err.name === 'ValidationException' && /already enabled/i.test(err.message)) return 'already';
      throw wrapError('UpdateTimeToLive', this.table, err);
    }
  }

  destroy(): void {
    this.#client.destroy();
  }
}

function wrapError(op: string, table: string, err: unknown): LarderError {
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  return new LarderError(
    'LARDER_ERR_STORE_UNAVAILABLE',
    `DynamoDB ${op} on table "${table}" failed: ${name}: ${message}`,
    {
      cause: err,
      details: { table, op },
    },
  );
}
