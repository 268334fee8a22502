import http from 'node:http';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { vectorBytes } from '../../src/keys/float-vector.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLarderError } from '../../src/errors.ts';
import { DynamoStore, initDynamoTable } from '../../src/store/dynamodb/dynamodb-store.ts';
import { createDynamoMetrics } from '../../src/store/dynamodb/dynamodb-metrics.ts';
import { describeOnlineStoreConformance } from './conformance.ts';
import { addMember, append, putEntry, setSingle } from './conformance-writes.ts';
import { floatVector } from './conformance-vectors.ts';
import { startDynalite, type DynaliteHandle } from './dynalite-server.ts';
import { manualClock } from './manual-clock.ts';

let dyn: DynaliteHandle;
let sharedTable: string;

beforeAll(async () => {
  dyn = await startDynalite();
  sharedTable = await dyn.createTable();
});
afterAll(async () => {
  await dyn.close();
});

describeOnlineStoreConformance('dynamodb (dynalite)', async () => {
  const clock = manualClock();
  // A table per case: purgeExpired scans the whole table and reports what it deleted.
  const store = new DynamoStore({
    table: await dyn.createTable(),
    endpoint: dyn.endpoint,
    now: clock.now,
    purgeScanBudget: 10_000,
  });
  return { store, now: clock, cleanup: async () => {} };
});

/**
 * A proxy in front of dynalite that injects what real DynamoDB does under load and dynalite never
 * does: throttling errors and partial batch answers (UnprocessedKeys / UnprocessedItems).
 */
async function faultyProxy(
  target: string,
  fault: (
    op: string,
    body: Record<string, unknown>,
  ) => { status: number; body: unknown } | 'pass' | 'partial',
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const body = JSON.parse(raw.toString() || '{}') as Record<string, unknown>;
      const decision = fault(op, body);
      if (typeof decision === 'object') {
        res.writeHead(decision.status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(decision.body));
        return;
      }
      const forwarded = decision === 'partial' ? splitBatch(body) : { send: body, held: undefined };
      const upstream = http.request(
        target + (req.url ?? '/'),
        {
          method: req.method,
          headers: { ...req.headers, 'content-length': Buffer.byteLength(JSON.stringify(forwarded.send)) },
        },
        (up) => {
          const out: Buffer[] = [];
          up.on('data', (c: Buffer) => out.push(c));
          up.on('end', () => {
            const answer = JSON.parse(Buffer.concat(out).toString() || '{}') as Record<string, unknown>;
            if (forwarded.held !== undefined) Object.assign(answer, forwarded.held);
            const text = JSON.stringify(answer);
            res.writeHead(up.statusCode ?? 500, { 'content-type': 'application/x-amz-json-1.0' });
            res.end(text);
          });
        },
      );
      upstream.end(JSON.stringify(forwarded.send));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Sends only the first item of a batch call on; the rest come back as unprocessed. */
function splitBatch(body: Record<string, unknown>): {
  send: Record<string, unknown>;
  held: Record<string, unknown>;
} {
  const requestItems = body.RequestItems as Record<string, unknown>;
  const [table, spec] = Object.entries(requestItems)[0] as [string, unknown];
  if (Array.isArray(spec)) {
    return {
      send: { ...body, RequestItems: { [table]: spec.slice(0, 1) } },
      held: { UnprocessedItems: spec.length > 1 ? { [table]: spec.slice(1) } : {} },
    };
  }
  const keys = (spec as { Keys: unknown[] }).Keys;
  return {
    send: { ...body, RequestItems: { [table]: { ...(spec as object), Keys: keys.slice(0, 1) } } },
    held: {
      UnprocessedKeys: keys.length > 1 ? { [table]: { ...(spec as object), Keys: keys.slice(1) } } : {},
    },
  };
}

describe('DynamoStore specifics', () => {
  const t0 = 1_700_000_000_000;
  const uniq = () => Math.random().toString(36).slice(2, 10);

  async function openStore(
    extra: Partial<ConstructorParameters<typeof DynamoStore>[0]> = {},
  ): Promise<DynamoStore> {
    const store = new DynamoStore({ table: sharedTable, endpoint: dyn.endpoint, ...extra });
    await store.open();
    return store;
  }

  it('open() on a missing table fails with LARDER_ERR_STORE_NOT_INITIALIZED; store init is idempotent', async () => {
    const store = new DynamoStore({ table: `missing_${uniq()}`, endpoint: dyn.endpoint });
    const err = await store.open().catch((e: unknown) => e);
    expect(isLarderError(err) && err.code).toBe('LARDER_ERR_STORE_NOT_INITIALIZED');
    const table = `again_${uniq()}`;
    expect((await initDynamoTable({ table, endpoint: dyn.endpoint })).created).toBe(true);
    const second = await initDynamoTable({ table, endpoint: dyn.endpoint });
    expect(second.created).toBe(false);
    // dynalite has no UpdateTimeToLive; reads filter expired items regardless.
    expect(second.ttl).toBe('unsupported');
  });

  it('stores a vector as its float32 bytes inside the Binary attribute v, not as msgpack numbers', async () => {
    const store = await openStore();
    const pk = `u:${uniq()}#emb`;
    const v = floatVector(384);
    await store.write([setSingle(pk, v, t0), append(`u:${uniq()}#seen`, t0, 'e1', { embedding: v })]);
    await store.close();
    const client = new DynamoDBClient({
      endpoint: dyn.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    try {
      const { Item } = await client.send(
        new GetItemCommand({ TableName: sharedTable, Key: { pk: { S: pk }, sk: { S: '#' } } }),
      );
      const bytes = Buffer.from(Item?.['v']?.B ?? new Uint8Array());
      // 1,536 bytes of float32 plus a few of framing; as msgpack float64 numbers it would be 3,459.
      expect(bytes.length).toBeGreaterThan(384 * 4);
      expect(bytes.length).toBeLessThan(384 * 4 + 32);
      expect(bytes.indexOf(vectorBytes(v))).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  });

  it('single: parallel out-of-order writers never go back in time', async () => {
    const store = await openStore();
    const pk = `u:${uniq()}#region`;
    const order = Array.from({ length: 40 }, (_, i) => i).sort(() => Math.random() - 0.5);
    await Promise.all(order.map((i) => store.write([setSingle(pk, `r${i}`, t0 + i)])));
    expect(await store.getStatic([pk])).toEqual([{ value: 'r39', ts: t0 + 39 }]);
    await store.close();
  });

  it('set/map: parallel writers to one key all land (optimistic concurrency on a version)', async () => {
    const store = await openStore();
    const setPk = `u:${uniq()}#keywords`;
    const mapPk = `u:${uniq()}#prefs`;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.write([addMember(setPk, `k${i}`, t0 + i), putEntry(mapPk, `p${i}`, i, t0 + i)]),
      ),
    );
    const [set, map] = await store.getStatic([setPk, mapPk]);
    expect(set?.value).toEqual(Array.from({ length: 20 }, (_, i) => `k${19 - i}`));
    expect(Object.keys(map?.value as object)).toHaveLength(20);
    expect(store.metrics.totals.retried).toBeGreaterThan(0);
    await store.close();
  });

  it('maxCount holds across many separate batches and parallel writers', async () => {
    const store = await openStore();
    const pk = `u:${uniq()}#clicks`;
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        store.write([append(pk, t0 + i, `e${i}`, { i }, { maxCount: 7 })]),
      ),
    );
    // Parallel trims may each see part of the appends; the next write to the key settles it.
    await store.write([append(pk, t0 + 100, 'last', {}, { maxCount: 7 })]);
    const [rows] = await store.getRanges([{ pk, count: 100, lastNSec: undefined }]);
    expect(rows?.map((r) => r.eventId)).toEqual(['last', 'e29', 'e28', 'e27', 'e26', 'e25', 'e24']);
    await store.close();
  });

  it('batch get beyond 100 keys, with duplicates, keeps order', async () => {
    const store = await openStore();
    const pks = Array.from({ length: 230 }, (_, i) => `a:${uniq()}${i}#title`);
    await store.write(pks.filter((_, i) => i % 3 !== 0).map((pk, i) => setSingle(pk, `t${i}`, t0)));
    const asked = [...pks, pks[1] as string, pks[0] as string];
    const read = await store.getStatic(asked);
    expect(read).toHaveLength(asked.length);
    asked.forEach((pk, i) => {
      const n = pks.indexOf(pk);
      if (n % 3 === 0) expect(read[i]).toBeUndefined();
      else expect(read[i]?.value).toMatch(/^t\d+$/);
    });
    await store.close();
  });

  it('throttling is retried with backoff and counted; unprocessed batch items are resent', async () => {
    let throttleLeft = 3;
    const proxy = await faultyProxy(dyn.endpoint, (op) => {
      if ((op === 'BatchWriteItem' || op === 'Query') && throttleLeft > 0) {
        throttleLeft--;
        return {
          status: 400,
          body: {
            __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
            message: 'The level of configured provisioned throughput for the table was exceeded.',
          },
        };
      }
      if (op === 'BatchGetItem' || op === 'BatchWriteItem') return 'partial';
      return 'pass';
    });
    try {
      const metrics = createDynamoMetrics();
      const store = new DynamoStore({ table: sharedTable, endpoint: proxy.endpoint, metrics });
      await store.open();
      const pk = `u:${uniq()}#clicks`;
      const statics = Array.from({ length: 5 }, (_, i) => `u:${uniq()}${i}#os`);
      await store.write([
        ...Array.from({ length: 6 }, (_, i) => append(pk, t0 + i, `e${i}`, { i })),
        ...statics.map((s, i) => setSingle(s, `os${i}`, t0)),
      ]);
      const [rows] = await store.getRanges([{ pk, count: 10, lastNSec: undefined }]);
      expect(rows?.map((r) => r.eventId)).toEqual(['e5', 'e4', 'e3', 'e2', 'e1', 'e0']);
      expect((await store.getStatic(statics)).map((v) => v?.value)).toEqual(statics.map((_, i) => `os${i}`));
      expect(metrics.totals.throttled).toBe(3);
      expect(metrics.totals.unprocessed).toBeGreaterThan(0);
      await store.close();
    } finally {
      await proxy.close();
    }
  });

  it('an unreachable endpoint fails with LARDER_ERR_STORE_UNAVAILABLE', async () => {
    const store = new DynamoStore({ table: 't_x', endpoint: 'http://127.0.0.1:1' });
    const err = await store.open().catch((e: unknown) => e);
    expect(isLarderError(err) && err.code).toBe('LARDER_ERR_STORE_UNAVAILABLE');
  });
});
