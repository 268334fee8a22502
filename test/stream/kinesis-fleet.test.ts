import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareSequence } from '../../src/ingest/stream/kinesis-checkpoints.ts';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';
import { freePort } from '../support/free-port.ts';
import { waitUntil } from '../support/wait-until.ts';
import { runFleetScenario } from './fixtures/fleet-harness.ts';

/**
 * Several ingest processes share the shards of one Kinesis stream through leases in a DynamoDB
 * table (kinesalite and dynalite, on free ports). Two run, one is SIGKILLed mid-stream: its leases
 * stop being renewed, and after `leaseDuration` the others take its shards over from their
 * checkpoints; a third joins and takes its share. Every row exact, nothing twice.
 */
const kinesalite = createRequire(import.meta.url)('kinesalite') as (options: object) => Server;
const CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'y' };
const LEASE_TABLE = 'larder_kinesis_leases';
let kinesisServer: Server;
let dynamo: DynaliteHandle;
let kinesis: KinesisClient;
let leases: DynamoDBClient;
let kinesisEndpoint = '';

beforeAll(async () => {
  const port = await freePort();
  kinesisServer = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => kinesisServer.listen(port, '127.0.0.1', () => resolve()));
  kinesisEndpoint = `http://127.0.0.1:${port}`;
  dynamo = await startDynalite();
  const common = { region: 'us-east-1', credentials: CREDENTIALS, requestHandler: new NodeHttpHandler() };
  kinesis = new KinesisClient({ ...common, endpoint: kinesisEndpoint });
  leases = new DynamoDBClient({ ...common, endpoint: dynamo.endpoint });
});

afterAll(async () => {
  kinesis?.destroy();
  leases?.destroy();
  await dynamo?.close();
  await new Promise<void>((resolve) =>
    kinesisServer === undefined ? resolve() : kinesisServer.close(() => resolve()),
  );
});

/** The lease rows of one stream: shard -> owner and checkpoint. */
async function leaseRows(stream: string): Promise<Map<string, { owner?: string; seq?: string }>> {
  const out = await leases
    .send(
      new QueryCommand({
        TableName: LEASE_TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `larder/${stream}` } },
        ConsistentRead: true,
      }),
    )
    .catch(() => ({ Items: [] }));
  return new Map(
    (out.Items ?? []).map((i) => [
      i.sk!.S!,
      { ...(i.owner ? { owner: i.owner.S! } : {}), ...(i.seq ? { seq: i.seq.S! } : {}) },
    ]),
  );
}

/** Every record of a stream, from the start of each shard, with its shard. */
async function readAll(stream: string): Promise<{ shard: string; seq: string; data: string }[]> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const out: { shard: string; seq: string; data: string }[] = [];
  for (const shard of shards) {
    let it = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (it !== undefined) {
      const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it }));
      for (const rec of r.Records ?? [])
        out.push({
          shard: shard.ShardId!,
          seq: rec.SequenceNumber!,
          data: Buffer.from(rec.Data!).toString(),
        });
      if ((r.Records ?? []).length === 0) break;
      it = r.NextShardIterator;
    }
  }
  return out;
}

/** True when every shard's checkpoint reached the last record of that shard. */
async function committedUpTo(stream: string, last: ReadonlyMap<string, string>): Promise<boolean> {
  const rows = await leaseRows(stream);
  for (const [shard, seq] of last) {
    const at = rows.get(shard)?.seq;
    if (at === undefined || compareSequence(at, seq) < 0) return false;
  }
  return true;
}

function lastOf(records: readonly { shard: string; seq: string }[]): Map<string, string> {
  const last = new Map<string, string>();
  for (const r of records) {
    const seen = last.get(r.shard);
    if (seen === undefined || compareSequence(r.seq, seen) > 0) last.set(r.shard, r.seq);
  }
  return last;
}

describe('Kinesis: a fleet of ingest processes sharing shards through DynamoDB leases', () => {
  it(
    'two processes, one SIGKILLed mid-stream (its shards taken over) and a third started: every row exact',
    { timeout: 180_000 },
    async () => {
      const topic = `larder-fleet-${randomBytes(5).toString('hex')}`;
      await kinesis.send(new CreateStreamCommand({ StreamName: topic, ShardCount: 4 }));
      await waitUntil(
        async () =>
          (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: topic })))
            .StreamDescriptionSummary?.StreamStatus === 'ACTIVE',
        30_000,
        'the stream to be ACTIVE',
      );
      const published: { shard: string; seq: string }[] = [];
      let deadShardsBehind: string[] = [];
      let deadOwner = '';
      let ownersAtEnd: (string | undefined)[] = [];
      const result = await runFleetScenario({
        source: 'kinesis',
        connection: {
          endpoint: kinesisEndpoint,
          region: 'us-east-1',
          ...CREDENTIALS,
          leaseEndpoint: dynamo.endpoint,
        },
        topic,
        options: { fetchWait: '100ms', leaseTable: LEASE_TABLE, leaseDuration: '3s' },
        events: 20_000,
        users: 300,
        poisonEvery: 53,
        async publish(payloads) {
          for (let i = 0; i < payloads.length; i += 500) {
            const batch = payloads.slice(i, i + 500);
            const out = await kinesis.send(
              new PutRecordsCommand({
                StreamName: topic,
                Records: batch.map((p) => ({
                  Data: Buffer.from(p),
                  PartitionKey: (JSON.parse(p) as { user_id: string }).user_id,
                })),
              }),
            );
            expect(out.FailedRecordCount ?? 0).toBe(0);
            for (const r of out.Records ?? []) published.push({ shard: r.ShardId!, seq: r.SequenceNumber! });
          }
        },
        async drained() {
          ownersAtEnd = [...(await leaseRows(topic)).values()].map((r) => r.owner);
          if (!(await committedUpTo(topic, lastOf(published)))) return false;
          return committedUpTo(`${topic}-retry`, lastOf(await readAll(`${topic}-retry`)));
        },
        async afterKill(pid) {
          // The shards the killed process held and had not finished: only a takeover finishes them.
          const last = lastOf(published);
          const rows = await leaseRows(topic);
          deadOwner = `${hostname()}-${pid}-`;
          deadShardsBehind = [...rows]
            .filter(([shard, row]) => {
              const end = last.get(shard);
              const behind =
                row.seq === undefined || (end !== undefined && compareSequence(row.seq, end) < 0);
              return row.owner?.startsWith(`${hostname()}-${pid}-`) === true && behind;
            })
            .map(([shard]) => shard);
        },
        async deadLetterIds() {
          const records = await readAll(`${topic}-dlq`).catch(() => []);
          return records.map(
            (r) =>
              (JSON.parse((JSON.parse(r.data) as { payload: string }).payload) as { event_id: string })
                .event_id,
          );
        },
      });
      expect(result.rowsAtKill).toBeGreaterThan(0);
      expect(deadShardsBehind.length, 'shards the killed process held, unfinished').toBeGreaterThan(0);
      // Every shard's checkpoint is at its end (the harness waited for it), so those were taken over.
      // At the end the two live processes held the four shards between them, the dead one none.
      expect(ownersAtEnd).toHaveLength(4);
      expect(ownersAtEnd.filter((o) => o?.startsWith(deadOwner) === true)).toEqual([]);
      expect(new Set(ownersAtEnd).size, JSON.stringify(ownersAtEnd)).toBe(2);
    },
  );
});
