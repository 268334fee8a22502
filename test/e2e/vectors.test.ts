import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';
import { freePort } from '../support/free-port.ts';
import { LARDER_BIN, startLarder, type LarderProcess } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';

const run = promisify(execFile);

/**
 * `vector(N)` end to end through the real CLI: `larder serve --config` on DynamoDB (dynalite) with
 * the Redis cache level in front, events pushed over HTTP, a bad vector rejected into the
 * dead-letter table (in the data directory), vectors served over GraphQL (first from the store, then from Redis), and
 * candidates ranked with `rankBy`.
 */
describe('vector features through larder serve on DynamoDB and Redis', { timeout: 120_000 }, () => {
  const tmp = tempDir('larder-vectors-');
  const registryDir = path.join(tmp.dir, 'registry');
  const configFile = path.join(tmp.dir, 'larder.yaml');
  const tag = randomUUID().slice(0, 8);
  const redis = new Redis('redis://127.0.0.1:6379');
  let dynamo: DynaliteHandle;
  let server: LarderProcess;
  let base = '';

  const graphql = async (query: string): Promise<{ data?: unknown; errors?: unknown[] }> => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as never;
  };

  beforeAll(async () => {
    dynamo = await startDynalite();
    const table = await dynamo.createTable();
    mkdirSync(registryDir, { recursive: true });
    writeFileSync(
      path.join(registryDir, 'r.yaml'),
      [
        'entities:',
        `  user: {prefix: "vu${tag}:", idType: int}`,
        `  flea_article: {prefix: "va${tag}:", idType: int, idField: article_id, plural: flea_articles}`,
        'streams:',
        '  ev: {source: http, subTopicField: name, eventIdField: event_id}',
        'features:',
        '  user:',
        '    interest_vector:',
        '      cache: {levels: [redis], ttl: 10m}',
        '      events: [{streamName: ev, topic: t, subTopic: interest, fields: [{name: v, rename: interest_vector, type: "vector(4)"}]}]',
        '  flea_article:',
        '    title:',
        '      events: [{streamName: ev, topic: cdc, fields: [{name: title, type: string}]}]',
        '    title_embedding:',
        '      cache: {levels: [redis], ttl: 10m}',
        '      events: [{streamName: ev, topic: cdc, fields: [{name: v, rename: title_embedding, type: "vector(4)"}]}]',
        '',
      ].join('\n'),
    );
    writeFileSync(
      configFile,
      [
        `store: {type: dynamodb, table: ${table}, endpoint: "${dynamo.endpoint}", region: us-east-1}`,
        'cache: {redis: {url: "redis://127.0.0.1:6379"}}',
        '',
      ].join('\n'),
    );
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = startLarder([
      'serve',
      '--registry',
      registryDir,
      '--data',
      path.join(tmp.dir, 'data'),
      '--config',
      configFile,
      '--port',
      String(port),
      '--workers',
      '1',
    ]);
    await waitUntil(async () => (await fetch(`${base}/readyz`)).status === 200, 60_000, 'readyz');
  });

  afterAll(async () => {
    await server?.stop();
    const keys = await redis.keys(`*v[ua]${tag}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await dynamo?.close();
    tmp.remove();
  });

  it('ingests vectors and rejects a malformed one into the dead-letter table', async () => {
    const articles: [number, string, number[]][] = [
      [1, 'Road bike', [1, 0, 0, 0]],
      [2, 'Baby stroller', [0, 1, 0, 0]],
      [3, 'Bike helmet', [0.8, 0.1, 0, 0.1]],
      [4, 'Sofa', [0, 0, 1, 0]],
    ];
    const cdc = await fetch(`${base}/v1/streams/ev/cdc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        ...articles.map(([id, title, v]) => ({ event_id: `a${id}`, article_id: id, title, v })),
        { event_id: 'bad', article_id: 5, title: 'Lamp', v: [1, 2, 3] },
      ]),
    });
    const report = (await cdc.json()) as { accepted: number; rejected: number; rejections: unknown[] };
    expect(report).toMatchObject({ accepted: 4, rejected: 1 });
    expect(report.rejections[0]).toMatchObject({ index: 4, code: 'LARDER_ERR_EVENT_VECTOR' });
    const user = await fetch(`${base}/v1/streams/ev/t`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event_id: 'u1', name: 'interest', user_id: 1, v: [0.9, 0.2, 0, 0] }),
    });
    expect(await user.json()).toMatchObject({ accepted: 1, rejected: 0 });

    // The dead letter is committed a moment after the answer; another process sees it then.
    const list = async (): Promise<Record<string, unknown>[]> => {
      const { stdout } = await run(process.execPath, [
        LARDER_BIN,
        'dlq',
        'list',
        '--data',
        path.join(tmp.dir, 'data'),
        '--json',
      ]);
      return stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    };
    let entries: Record<string, unknown>[] = [];
    await waitUntil(async () => (entries = await list()).length > 0, 30_000, 'the dead letter');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ code: 'LARDER_ERR_EVENT_VECTOR', stream: 'ev' });
    expect(JSON.stringify(entries[0])).toContain('expects vector(4), got an array of 3 elements');
    expect(entries[0]?.body).toMatchObject({ event_id: 'bad', v: [1, 2, 3] });
  });

  it('serves the float32 values from the store, then from the Redis level', async () => {
    const query = '{ user(id: 1) { interest_vector } flea_articles(ids: [3, 5]) { id title_embedding } }';
    const expected = {
      user: { interest_vector: [Math.fround(0.9), Math.fround(0.2), 0, 0] },
      flea_articles: [
        { id: '3', title_embedding: [Math.fround(0.8), Math.fround(0.1), 0, Math.fround(0.1)] },
        { id: '5', title_embedding: null },
      ],
    };
    expect(await graphql(query)).toEqual({ data: expected });
    // The Redis level fills after the read; then it holds the vector as 16 bytes of float32.
    const key = `*d:{vu${tag}:1#interest_vector}`;
    await waitUntil(async () => (await redis.keys(key)).length === 1, 10_000, 'the Redis level to fill');
    const [found] = await redis.keys(key);
    const cached = await redis.getBuffer(found!);
    const floats = Buffer.alloc(16);
    [0.9, 0.2, 0, 0].forEach((x, i) => floats.writeFloatLE(x, i * 4));
    expect(cached!.indexOf(floats)).toBeGreaterThan(0);
    expect(await graphql(query)).toEqual({ data: expected });
  });

  it('ranks candidates by similarity to the user in one request', async () => {
    const ranked = await graphql(`
      {
        flea_articles(
          ids: [4, 2, 3, 1, 5]
          rankBy: { similarityTo: { entity: user, id: 1, feature: interest_vector }, limit: 3 }
        ) {
          id
          title
        }
      }
    `);
    expect(ranked).toEqual({
      data: {
        flea_articles: [
          // cos(user, 3) = 0.74 / (0.922 · 0.812) = 0.988 > cos(user, 1) = 0.9 / 0.922 = 0.976
          { id: '3', title: 'Bike helmet' },
          { id: '1', title: 'Road bike' },
          { id: '2', title: 'Baby stroller' },
        ],
      },
    });
  });
});
