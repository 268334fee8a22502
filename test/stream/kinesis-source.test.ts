import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startConsumers } from '../../src/ingest/stream/start-consumers.ts';
import { freePort } from '../support/free-port.ts';
import { tempDir } from '../support/temp-dir.ts';
import {
  makeEvents,
  openPipeline,
  readState,
  serialReference,
  writeTestRegistry,
} from './fixtures/pipeline.ts';
import { describeSourceConformance, type ConformanceHarness } from './source-conformance.ts';
import { waitUntil } from '../support/wait-until.ts';

const kinesalite = createRequire(import.meta.url)('kinesalite') as (options: object) => Server;
let server: Server | undefined;
let client: KinesisClient;
let connection: Record<string, unknown> = {};

async function startKinesalite(): Promise<void> {
  const port = await freePort();
  server = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
  });
  await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', () => resolve()));
  connection = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: 'x',
    secretAccessKey: 'y',
  };
  client = new KinesisClient({
    endpoint: connection.endpoint as string,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    requestHandler: new NodeHttpHandler(),
  });
}

async function stopKinesalite(): Promise<void> {
  client?.destroy();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
}

async function createStream(name: string, shards = 1): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await streamActive(name);
}

async function streamActive(name: string): Promise<void> {
  await waitUntil(
    async () => {
      const d = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      return d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
    },
    30_000,
    `kinesis stream ${name} to be ACTIVE`,
    20,
  );
}

async function putAll(
  stream: string,
  payloads: readonly string[],
  key: (i: number) => string = () => 'k',
): Promise<void> {
  for (let i = 0; i < payloads.length; i += 500) {
    await client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: payloads
          .slice(i, i + 500)
          .map((p, j) => ({ Data: Buffer.from(p), PartitionKey: key(i + j) })),
      }),
    );
  }
}

async function readAll(stream: string): Promise<string[]> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const out: string[] = [];
  for (const shard of shards) {
    let it = (
      await client.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    for (let i = 0; i < 20 && it; i += 1) {
      const r = await client.send(new GetRecordsCommand({ ShardIterator: it }));
      out.push(...(r.Records ?? []).map((rec) => Buffer.from(rec.Data!).toString()));
      if ((r.Records ?? []).length === 0) break;
      it = r.NextShardIterator;
    }
  }
  return out;
}

const harness: ConformanceHarness = {
  source: 'kinesis',
  get connection() {
    return connection;
  },
  retryStyle: 'republish',
  setup: startKinesalite,
  teardown: stopKinesalite,
  async newTopic() {
    const topic = `larder-test-${randomBytes(5).toString('hex')}`;
    await createStream(topic);
    return {
      topic,
      options: { fetchWait: '100ms' },
      publish: (payloads) => putAll(topic, payloads),
      async readDeadLetters() {
        const records = await readAll(`${topic}-dlq`).catch(() => []);
        return records.map((r) => {
          const envelope = JSON.parse(r) as { larder: Record<string, string>; payload: string };
          return { payload: envelope.payload, headers: envelope.larder };
        });
      },
      async cleanup() {},
    };
  },
};

describeSourceConformance('Kinesis source on kinesalite (conformance)', harness);

describe('Kinesis source specifics', () => {
  it(
    'follows a shard split: parents finish before children, nothing lost or duplicated',
    { timeout: 60_000 },
    async () => {
      await startKinesalite();
      const reg = tempDir('larder-kin-reg-');
      const data = tempDir('larder-kin-data-');
      try {
        const topic = `larder-split-${randomBytes(4).toString('hex')}`;
        await createStream(topic, 1);
        writeTestRegistry(reg.dir, { source: 'kinesis', connection, topic, options: { fetchWait: '50ms' } });
        const users = 30;
        const events = makeEvents(900, users);
        await putAll(
          topic,
          events.slice(0, 450).map((e) => JSON.stringify(e)),
          (i) => events[i]!.user_id,
        );
        const shards = (await client.send(new ListShardsCommand({ StreamName: topic }))).Shards!;
        await client.send(
          new SplitShardCommand({
            StreamName: topic,
            ShardToSplit: shards[0]!.ShardId,
            NewStartingHashKey: (2n ** 127n).toString(),
          }),
        );
        await streamActive(topic);
        await putAll(
          topic,
          events.slice(450).map((e) => JSON.stringify(e)),
          (i) => events[450 + i]!.user_id,
        );

        const pipeline = await openPipeline(reg.dir, data.dir);
        const running = await startConsumers({
          registry: pipeline.registry,
          ingestor: pipeline.ingestor,
          logger: pino({ level: 'silent' }),
          dataDir: data.dir,
        });
        try {
          await waitUntil(
            () => running.metrics.total('written') >= events.length,
            40_000,
            `all ${events.length} events written`,
          );
        } finally {
          await running.stop();
        }
        const state = await readState(pipeline.store, users);
        let rows = 0;
        for (const [, s] of state) {
          rows += s.rows.length;
          expect(new Set(s.rows.map((r) => r.eventId)).size).toBe(s.rows.length);
        }
        expect(rows).toBe(events.length);
        await pipeline.close();
        // Same result as applying the events serially: per-key order held across the split.
        const ref = tempDir('larder-kin-ref-');
        const expected = await serialReference(reg.dir, ref.dir, events, topic, users);
        ref.remove();
        for (const [user, want] of expected) expect(state.get(user), user).toEqual(want);
      } finally {
        reg.remove();
        data.remove();
        await stopKinesalite();
      }
    },
  );
});
