import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import type { InvocationQueue } from '../../src/enrich/invocation-queue.ts';
import { openInvocationQueue } from '../../src/enrich/open-invocation-queue.ts';
import { openLmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { freePort } from '../support/free-port.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';

const TOTAL = 5_000;

/**
 * `larder enrich` is SIGKILLed with thousands of invocations queued and many in flight. Restarted,
 * it finishes every one: each item ends with exactly one row in the feature store, though some
 * handler calls ran twice (the killed process's calls in flight, retried once their leases ran out),
 * because a result's event id comes from its invocation id. Run on both queue engines.
 */
describe.each([{ mode: 'embedded' as const }, { mode: 'distributed' as const }])(
  'SIGKILL of larder enrich with $mode queue',
  { timeout: 300_000 },
  ({ mode }) => {
    const tmp = tempDir(`larder-enrich-kill-${mode}-`);
    const prefix = `larder-test-${randomUUID().slice(0, 8)}`;
    const registryDir = path.join(tmp.dir, 'registry');
    const dataDir = path.join(tmp.dir, 'data');
    const configFile = path.join(tmp.dir, 'larder.yaml');
    const callLog = path.join(tmp.dir, 'calls.log');
    let child: LarderProcess | undefined;

    afterAll(async () => {
      await child?.stop('SIGKILL');
      if (mode === 'distributed') {
        const redis = new Redis('redis://127.0.0.1:6379');
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
      tmp.remove();
    });

    /** Opens the queue the child uses, from this process, for as long as `use` runs. */
    async function withQueue<T>(use: (queue: InvocationQueue) => Promise<T>): Promise<T> {
      const env = openLmdbEnv(dataDir);
      const queue = await openInvocationQueue(loadConfig(configFile).enrich, env);
      try {
        return await use(queue);
      } finally {
        await queue.close();
        await env.close();
      }
    }

    it('completes every invocation exactly once in the feature store', async () => {
      mkdirSync(path.join(registryDir, 'handlers'), { recursive: true });
      writeFileSync(
        path.join(registryDir, 'handlers', 'tag.mjs'),
        [
          "import { appendFileSync } from 'node:fs';",
          'export default async (input, ctx) => {',
          `  appendFileSync(${JSON.stringify(callLog)}, ctx.invocationId + '\\n');`,
          // One in 200 takes a second: whenever the process is killed, some calls are in flight.
          '  await new Promise((resolve) => setTimeout(resolve, input.item_id % 200 === 0 ? 1000 : 5));',
          '  return { tag: `t${input.item_id}` };',
          '};',
          '',
        ].join('\n'),
      );
      writeFileSync(
        path.join(registryDir, 'registry.yaml'),
        [
          'entities: {item: {idType: int, idField: item_id}}',
          'enrichers:',
          '  tagger:',
          '    handler: {module: ./handlers/tag.mjs}',
          '    concurrency: {min: 16, max: 32}',
          '    timeout: 2s',
          '    onSuccess: {streamName: results, topic: tags}',
          'features:',
          '  item:',
          '    tags:',
          '      featureType: action',
          '      maxCount: 10',
          '      events: [{streamName: results, topic: tags, fields: [{name: result.tag, rename: tag, type: string}]}]',
          '',
        ].join('\n'),
      );
      writeFileSync(
        configFile,
        [
          'enrich:',
          ...(mode === 'distributed' ? ['  mode: distributed', `  prefix: ${prefix}`] : []),
          '  leaseGrace: 1s',
          '  pollInterval: 50ms',
          '  threads: 2',
          '',
        ].join('\n'),
      );
      await withQueue(async (queue) => {
        for (let i = 0; i < TOTAL; i += 500) {
          await queue.put(
            'tagger',
            Array.from({ length: 500 }, (_, k) => ({ id: `inv-${i + k}`, input: { item_id: i + k } })),
          );
        }
        expect((await queue.counts('tagger')).queued).toBe(TOTAL);
      });

      const args = ['enrich', '--registry', registryDir, '--data', dataDir, '--config', configFile];
      child = startLarder(args, { LARDER_LOG_LEVEL: 'warn' });
      await withQueue((queue) =>
        waitUntil(
          async () => (await queue.counts('tagger')).succeeded >= 1_000,
          120_000,
          `a first thousand invocations\n${child?.output()}`,
          20,
        ),
      );
      await child.stop('SIGKILL');
      // What the killed process held: running until their leases run out, then taken again.
      const atKill = await withQueue((queue) => queue.counts('tagger'));
      expect(atKill.succeeded).toBeLessThan(TOTAL);
      expect(atKill.running).toBeGreaterThan(0);

      const metricsPort = await freePort();
      child = startLarder([...args, '--metrics-port', String(metricsPort)], { LARDER_LOG_LEVEL: 'warn' });
      const done = await withQueue((queue) =>
        waitUntil(
          async () => {
            const counts = await queue.counts('tagger');
            return counts.succeeded === TOTAL ? counts : undefined;
          },
          180_000,
          `every invocation to succeed\n${child?.output()}`,
          100,
        ),
      );
      expect(done).toMatchObject({ queued: 0, running: 0, failed: 0, dead: 0 });
      await waitUntil(
        async () => {
          const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
          return new RegExp(
            `^larder_enrich_invocations\\{enricher="tagger",state="succeeded"\\} ${TOTAL}$`,
            'm',
          ).test(text);
        },
        30_000,
        "the fleet's /metrics",
      );
      await child.stop('SIGTERM');

      const calls = readFileSync(callLog, 'utf8').trim().split('\n');
      const env = openLmdbEnv(dataDir);
      try {
        const rowsPerItem = new Map<string, string[]>();
        for (const key of env.rows.getKeys()) {
          const [pk, , eventId] = key as [string, number, string];
          rowsPerItem.set(pk, [...(rowsPerItem.get(pk) ?? []), eventId]);
        }
        expect(rowsPerItem.size).toBe(TOTAL);
        const doubled = [...rowsPerItem.values()].filter((ids) => ids.length !== 1);
        expect(doubled).toEqual([]);
        for (const [pk, [eventId]] of rowsPerItem) {
          const item = /^item:(\d+)/.exec(pk)?.[1];
          expect(eventId).toBe(`inv-${item}.result`);
        }
      } finally {
        await env.close();
      }
      // Every invocation ran at least once; those in flight at the kill ran again.
      expect(new Set(calls).size).toBe(TOTAL);
      expect(calls.length).toBeGreaterThanOrEqual(TOTAL);
      process.stdout.write(`${mode}: ${calls.length - TOTAL} handler calls re-run after the SIGKILL\n`);
    });
  },
);
