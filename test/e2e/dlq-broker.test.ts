import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRedisStreamRegistry } from './support.ts';
import { tempDir } from '../support/temp-dir.ts';
import { LARDER_BIN, startLarder } from '../support/larder-process.ts';
import { waitUntil } from '../support/wait-until.ts';

const run = promisify(execFile);

/** A poison message on a Redis stream ends in the broker DLQ, and `larder dlq --broker` shows it. */
describe('larder ingest + larder dlq --broker, through the real CLI', () => {
  const tmp = tempDir('larder-dlq-broker-');
  const topic = `larder-test-${randomUUID()}`;
  const redis = new Redis('redis://127.0.0.1:6379');
  const registryDir = path.join(tmp.dir, 'registry');
  const dataDir = path.join(tmp.dir, 'data');

  afterAll(async () => {
    const keys = await redis.keys(`${topic}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    tmp.remove();
  });

  it('dead-letters the poison message to the broker and lists it', { timeout: 120_000 }, async () => {
    writeRedisStreamRegistry(registryDir, topic);
    await redis.xadd(topic, '*', 'data', JSON.stringify({ id: 'ok', user_id: 1, item: 5 }));
    await redis.xadd(topic, '*', 'data', JSON.stringify({ id: 'bad', user_id: 'x', item: 5 }));

    const ingest = startLarder(['ingest', '--registry', registryDir, '--data', dataDir]);
    try {
      await waitUntil(
        async () => {
          const { stdout } = await run(process.execPath, [
            LARDER_BIN,
            'dlq',
            'list',
            '--broker',
            `ev/${topic}`,
            '--registry',
            registryDir,
            '--json',
          ]);
          return stdout.includes('bad');
        },
        75_000,
        'the poison message to reach the broker DLQ',
      );
    } finally {
      await ingest.stop();
    }
    const { stdout } = await run(process.execPath, [
      LARDER_BIN,
      'dlq',
      'list',
      '--broker',
      `ev/${topic}`,
      '--registry',
      registryDir,
      '--json',
    ]);
    const entries = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { payload: string });
    expect(entries).toHaveLength(1);
    expect(JSON.parse(entries[0]!.payload)).toMatchObject({ id: 'bad' });

    const wrong = await run(process.execPath, [
      LARDER_BIN,
      'dlq',
      'list',
      '--broker',
      'nope/nothing',
      '--registry',
      registryDir,
    ]).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(wrong?.code).toBe(1);
    expect(wrong?.stderr).toContain('not a broker-bound stream/topic');
  });
});
