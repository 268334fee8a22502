import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamodb/dynamodb-store.ts';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';
import { makeEvents, serialReference, writeTestRegistry } from '../stream/fixtures/pipeline.ts';
import { freePort } from '../support/free-port.ts';
import { kafkaEndpoint, RESOLVE_AND_START_MS, type KafkaEndpoint } from '../support/kafka-broker.ts';
import { byUser, sleep } from '../support/kafka-scenario.ts';
import { KafkaTestClient } from '../support/kafka-topics.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';
import { parseMetrics, readServedUsers, type MetricSample, type ServedUser } from './topology-support.ts';

/**
 * The production topology, every part real: events on a 4-partition Kafka topic; a fleet of
 * `larder ingest --config f.yaml` processes (one consumer group) writing DynamoDB (dynalite) with
 * the Redis cache level (127.0.0.1:6379); a fleet of `larder serve --config f.yaml` processes
 * reading through that Redis level. All four processes get the same file. One ingest process is
 * SIGKILLed mid-stream and a third joins; afterwards both servers answer every user's rows exactly
 * as applying the events one by one gives (order, nothing lost, nothing twice).
 */
const EVENTS = 50_000;
const USERS = 500;
const PARTITIONS = 4;

describe('the production topology: Kafka -> ingest fleet -> DynamoDB + Redis -> serve fleet', () => {
  const tmp = tempDir('larder-topology-');
  const running: LarderProcess[] = [];
  const redis = new Redis('redis://127.0.0.1:6379');
  // Keys of this run only: the entity prefix is unique, so the shared Redis holds no one else's.
  const prefix = `topo${randomBytes(4).toString('hex')}:`;
  let endpoint: KafkaEndpoint;
  let kafka: KafkaTestClient;
  let dynamo: DynaliteHandle;
  const topic = KafkaTestClient.topicName('larder-topology');
  const topics = [topic, `${topic}.retry`, `${topic}.dlq`];

  beforeAll(async () => {
    endpoint = await kafkaEndpoint();
    kafka = new KafkaTestClient(endpoint.brokers);
    dynamo = await startDynalite();
  }, RESOLVE_AND_START_MS);

  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await kafka?.deleteTopics(topics);
    await kafka?.close();
    await endpoint?.release();
    await dynamo?.close();
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `larder:${prefix}*`, count: 1000 }))
      keys.push(...(batch as string[]));
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    redis.disconnect();
    tmp.remove();
  });

  it(
    '50k events, 2 ingest processes (one SIGKILLed, a third joins), 2 servers: every row exact on both',
    { timeout: 240_000 },
    async () => {
      await kafka.create(topics, PARTITIONS);
      const table = await dynamo.createTable();
      const group = `larder-topology-${randomBytes(4).toString('hex')}`;
      const registryDir = path.join(tmp.dir, 'registry');
      // The registry names a broker that does not exist: only the config file reaches the real one.
      writeTestRegistry(registryDir, {
        source: 'kafka',
        connection: { brokers: ['127.0.0.1:1'] },
        topic,
        prefix,
        cache: { levels: ['redis'] },
      });
      const configFile = path.join(tmp.dir, 'larder.yaml');
      writeFileSync(
        configFile,
        [
          `store: {type: dynamodb, table: ${table}, endpoint: "${dynamo.endpoint}", region: us-east-1}`,
          'cache:',
          '  redis: {url: "redis://127.0.0.1:6379"}',
          'streams:',
          '  events:',
          `    connection: {brokers: [${endpoint.brokers.map((b) => `"${b}"`).join(', ')}]}`,
          `    group: ${group}`,
          '    options: {sessionTimeout: 3s, heartbeatInterval: 500ms, fetchWait: 100ms}',
          '',
        ].join('\n'),
      );

      const metricsPorts = new Map<LarderProcess, number>();
      const ingest = async (name: string): Promise<LarderProcess> => {
        const metricsPort = await freePort();
        const p = startLarder([
          'ingest',
          '--registry',
          registryDir,
          '--data',
          path.join(tmp.dir, name),
          '--config',
          configFile,
          '--metrics-port',
          String(metricsPort),
        ]);
        running.push(p);
        metricsPorts.set(p, metricsPort);
        return p;
      };
      const metrics = (p: LarderProcess): Promise<MetricSample[]> =>
        fetch(`http://127.0.0.1:${metricsPorts.get(p)}/metrics`)
          .then((r) => r.text())
          .then(parseMetrics);
      const ingesting = (p: LarderProcess) =>
        waitUntil(() => p.output().includes('"msg":"ingesting"'), 60_000, `ingest started\n${p.output()}`);
      const servers = await Promise.all(
        ['serve-1', 'serve-2'].map(async (name) => {
          const port = await freePort();
          const p = startLarder([
            'serve',
            '--registry',
            registryDir,
            '--data',
            path.join(tmp.dir, name),
            '--port',
            String(port),
            '--workers',
            '1',
            '--no-consumers',
            '--config',
            configFile,
          ]);
          running.push(p);
          return { port, process: p };
        }),
      );
      const [a, b] = [await ingest('ingest-a'), await ingest('ingest-b')];
      await Promise.all([ingesting(a), ingesting(b)]);
      for (const s of servers)
        await waitUntil(
          () => fetch(`http://127.0.0.1:${s.port}/readyz`).then((r) => r.ok),
          60_000,
          `server on ${s.port}\n${s.process.output()}`,
        );

      const events = makeEvents(EVENTS, USERS);
      const payloads = events.map((e) => JSON.stringify(e));
      const producing = (async () => {
        for (let i = 0; i < payloads.length; i += 2_500) {
          await kafka.produce(topic, payloads.slice(i, i + 2_500), byUser);
          await sleep(400);
        }
      })();
      const committed = async (): Promise<number> =>
        (await kafka.committed(group, topic)).reduce((sum, o) => sum + (o > 0n ? Number(o) : 0), 0);
      await waitUntil(async () => (await committed()) >= EVENTS / 5, 90_000, 'a fifth committed');
      // The process about to die has a share of the partitions: it has written events of its own.
      const writtenBy = async (p: LarderProcess): Promise<number> =>
        (await metrics(p))
          .filter((m) => m.name === 'larder_stream_events_total' && m.labels.outcome === 'written')
          .reduce((n, m) => n + m.value, 0);
      expect(await writtenBy(a), a.output()).toBeGreaterThan(0);
      a.child.kill('SIGKILL');
      await a.exited;
      const atKill = await committed();
      const c = await ingest('ingest-c');
      // Reads while the events flow fill the Redis level with partial rows: writes must keep it exact.
      for (const s of servers) await readServedUsers(s.port, USERS);
      await ingesting(c);
      await producing;

      await waitUntil(
        async () =>
          (await kafka.drained(group, topic)) && (await kafka.drained(`${group}.retry`, `${topic}.retry`)),
        150_000,
        `every offset committed\n${b.output()}\n${c.output()}`,
        250,
      );
      expect(atKill, 'the kill landed mid-stream').toBeLessThan(EVENTS);
      for (const p of [b, c]) expect(p.child.exitCode, p.output()).toBeNull();
      // Both survivors took part: the third process got partitions of the group and wrote events.
      for (const p of [b, c]) expect(await writtenBy(p), p.output()).toBeGreaterThan(0);
      // Lag, as each member reports it: every partition of the topic once, owned by one of them,
      // all at 0 once the group committed everything (no partition a member lost still reported).
      await waitUntil(
        async () => {
          const lags = (await Promise.all([b, c].map(metrics)))
            .flat()
            .filter((m) => m.name === 'larder_stream_lag_messages' && !m.labels.source!.endsWith('.retry'));
          const partitions = lags.map((m) => m.labels.partition).sort();
          return JSON.stringify(partitions) === '["0","1","2","3"]' && lags.every((m) => m.value === 0);
        },
        30_000,
        'lag gauges at 0 on exactly the owned partitions',
        500,
      );

      // The reference: the same events applied one by one through a fresh LMDB pipeline.
      const refRegistry = path.join(tmp.dir, 'reference-registry');
      const refData = tempDir('larder-topology-ref-');
      writeTestRegistry(refRegistry, { source: 'kafka', connection: { brokers: ['127.0.0.1:1'] }, topic });
      const reference = await serialReference(refRegistry, refData.dir, events, topic, USERS, 1_000);
      refData.remove();
      const want = new Map<string, ServedUser>(
        [...reference].map(([id, s]) => [
          id,
          { items: s.rows.map((r) => r.values.item_id as number), last: s.last?.value as number },
        ]),
      );
      expect([...want.values()].reduce((n, u) => n + u.items.length, 0)).toBe(EVENTS);

      // The table itself, below the cache: every user's rows, by event id, exactly the reference's.
      const store = new DynamoStore({ table, endpoint: dynamo.endpoint, region: 'us-east-1' });
      await store.open();
      try {
        const ids = [...reference.keys()];
        const stored = await store.getRanges(
          ids.map((id) => ({ pk: `${prefix}${id}#recent_items`, count: 10_000, lastNSec: undefined })),
        );
        ids.forEach((id, i) => {
          const got = stored[i]!.map((r) => r.eventId);
          expect(got, `DynamoDB rows of ${id}`).toEqual(reference.get(id)!.rows.map((r) => r.eventId));
        });
      } finally {
        await store.close();
      }

      for (const s of servers) {
        const got = await readServedUsers(s.port, USERS);
        let rows = 0;
        for (const [id, w] of want) {
          const served = got.get(id);
          expect(served?.items, `rows of ${id} on :${s.port}`).toEqual(w.items);
          expect(served?.last, `last_item of ${id} on :${s.port}`).toBe(w.last);
          rows += served?.items.length ?? 0;
        }
        expect(rows).toBe(EVENTS);
      }

      for (const p of [b, c, ...servers.map((s) => s.process)]) expect(await p.stop(), p.output()).toBe(0);
    },
  );
});
