import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { LARDER_BIN, startLarder, type LarderProcess } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';
import { writeEnrichRegistry } from './support/enrich-registry.ts';

const run = promisify(execFile);

/**
 * Enrichment end to end, through the real CLI: `larder serve` (which runs the workers in-process
 * in embedded mode) and, in distributed mode, a `larder enrich` fleet beside it on BullMQ that
 * publishes its results to Redis streams the server consumes. Events are pushed over HTTP; results
 * must show up as features in GraphQL.
 */
describe.each([{ mode: 'embedded' as const }, { mode: 'distributed' as const }])(
  'enrichment end to end ($mode)',
  { timeout: 180_000 },
  ({ mode }) => {
    const tmp = tempDir(`larder-enrich-${mode}-`);
    const registryDir = path.join(tmp.dir, 'registry');
    const dataDir = path.join(tmp.dir, 'data');
    const configFile = path.join(tmp.dir, 'larder.yaml');
    const prefix = `larder-test-${randomUUID().slice(0, 8)}`;
    let base = '';
    let port = 0;
    let server: LarderProcess;
    let fleet: LarderProcess | undefined;

    const startServer = async (): Promise<void> => {
      server = startLarder(
        [
          'serve',
          '--registry',
          registryDir,
          '--data',
          dataDir,
          '--config',
          configFile,
          '--port',
          String(port),
          '--workers',
          '1',
        ],
        { LARDER_LOG_LEVEL: 'warn' },
      );
      await waitUntil(async () => (await fetch(`${base}/readyz`)).ok, 60_000, `readyz\n${server.output()}`);
      if (mode === 'distributed') {
        fleet = startLarder(
          [
            'enrich',
            '--registry',
            registryDir,
            '--data',
            path.join(tmp.dir, 'fleet'),
            '--config',
            configFile,
          ],
          {
            LARDER_LOG_LEVEL: 'info',
          },
        );
        await waitUntil(
          () => fleet?.output().includes('enrichment workers ready'),
          60_000,
          `larder enrich\n${fleet.output()}`,
        );
      }
    };
    const stopServer = async (): Promise<void> => {
      await fleet?.stop();
      await server?.stop();
    };

    async function push(events: Record<string, unknown>[]): Promise<void> {
      const res = await fetch(`${base}/v1/streams/events/articles`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(events),
      });
      expect(res.status).toBe(200);
    }

    async function article(id: number, fields: string): Promise<Record<string, unknown> | undefined> {
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ article(id: ${id}) { ${fields} } }` }),
      });
      const body = (await res.json()) as { data?: { article?: Record<string, unknown> } };
      return body.data?.article;
    }

    async function status(enricher: string, id: string): Promise<Record<string, unknown>> {
      const res = await fetch(`${base}/v1/enrichers/${enricher}/invocations/${id}`);
      return (await res.json()) as Record<string, unknown>;
    }

    async function larder(...args: string[]): Promise<string> {
      const { stdout } = await run(process.execPath, [
        LARDER_BIN,
        ...args,
        '--data',
        dataDir,
        '--config',
        configFile,
      ]);
      return stdout;
    }

    beforeAll(async () => {
      // Distributed: the fleet publishes results to Redis streams, which the server consumes.
      writeEnrichRegistry(registryDir, mode === 'distributed' ? { topicPrefix: `${prefix}-` } : undefined);
      const enrich = [
        'enrich:',
        ...(mode === 'distributed' ? ['  mode: distributed', `  prefix: ${prefix}`] : []),
        '  pollInterval: 50ms',
        '  scaleInterval: 200ms',
        '  leaseGrace: 1s',
        '  threads: 2',
      ];
      writeFileSync(configFile, [...enrich, ''].join('\n'));
      port = await freePort();
      base = `http://127.0.0.1:${port}`;
      await startServer();
    });

    afterAll(async () => {
      await stopServer();
      if (mode === 'distributed') {
        const redis = new Redis('redis://127.0.0.1:6379');
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
      tmp.remove();
    });

    it('trigger -> handler -> onSuccess -> feature in GraphQL, once per event', async () => {
      const event = { type: 'created', article_id: 1, n: 21, event_id: 'a1-created' };
      await push([event, { ...event, article_id: 2, n: 5, event_id: 'a2-created' }]);
      await waitUntil(async () => (await article(1, 'doubled'))?.doubled === 42, 30_000, 'article 1 doubled');
      await waitUntil(async () => (await article(2, 'doubled'))?.doubled === 10, 30_000, 'article 2 doubled');
      // The same event again (a redelivery) maps to the invocation already done: nothing new runs.
      await push([event]);
      const summary = await larder('dlq', 'list', '--enricher', '--registry', registryDir);
      expect(summary).toMatch(/^doubler {2}2 succeeded, 0 dead, 0 waiting, 0 running$/m);
    });

    it('a module answering a Float32Array feeds a vector feature; its status shows the numbers', async () => {
      await push([{ type: 'embed', article_id: 30, x: 0.25, event_id: 'a30-embed' }]);
      await waitUntil(
        async () => JSON.stringify((await article(30, 'embedding'))?.embedding) === '[0.25,0.5,-1]',
        30_000,
        'article 30 embedding',
      );
      const res = await fetch(`${base}/v1/enrichers/embedder/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ article_id: 31, x: 2 }),
      });
      const { id } = (await res.json()) as { id: string };
      const done = await waitUntil(
        async () => {
          const s = await status('embedder', id);
          return s.state === 'succeeded' ? s : undefined;
        },
        30_000,
        'the embedder invocation to succeed',
      );
      expect(done.result).toEqual({ embedding: [2, 0.5, -1] });
      expect((await article(31, 'embedding'))?.embedding).toEqual([2, 0.5, -1]);
    });

    it('invokes over HTTP: 202 with an id, then the status with the result', async () => {
      const res = await fetch(`${base}/v1/enrichers/doubler/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ article_id: 7, n: 50 }),
      });
      expect(res.status).toBe(202);
      const { id, state } = (await res.json()) as { id: string; state: string };
      expect(state).toBe('queued');
      const done = await waitUntil(
        async () => {
          const s = await status('doubler', id);
          return s.state === 'succeeded' ? s : undefined;
        },
        30_000,
        'the invocation to succeed',
      );
      expect(done).toMatchObject({
        id,
        enricher: 'doubler',
        attempts: 1,
        input: { article_id: 7, n: 50 },
        result: { doubled: 100 },
      });
      await waitUntil(
        async () => (await article(7, 'doubled'))?.doubled === 100,
        30_000,
        'article 7 doubled',
      );

      const unknown = await fetch(`${base}/v1/enrichers/nope/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ code: 'LARDER_ERR_ENRICH_UNKNOWN_ENRICHER' });
      const notObject = await fetch(`${base}/v1/enrichers/doubler/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '[1, 2]',
      });
      expect(notObject.status).toBe(400);
      expect(await notObject.json()).toMatchObject({ code: 'LARDER_ERR_ENRICH_INPUT' });
      const missing = await fetch(`${base}/v1/enrichers/doubler/invocations/h-nothing`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ code: 'LARDER_ERR_ENRICH_NOT_FOUND' });
    });

    it('retries a handler that throws, and it succeeds on the second attempt', async () => {
      await push([{ type: 'flaky', article_id: 3, event_id: 'a3-flaky' }]);
      await waitUntil(
        async () => (await article(3, 'flaky_attempt'))?.flaky_attempt === 2,
        30_000,
        'flaky result',
      );
    });

    it('times out a handler that hangs: retried, then dead with the timeout', async () => {
      const res = await fetch(`${base}/v1/enrichers/sleepy/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ article_id: 4 }),
      });
      const { id } = (await res.json()) as { id: string };
      const dead = await waitUntil(
        async () => {
          const s = await status('sleepy', id);
          return s.state === 'dead' ? s : undefined;
        },
        30_000,
        'the hanging invocation to be dead',
      );
      expect(dead).toMatchObject({ attempts: 2, error: { code: 'LARDER_ERR_ENRICH_TIMEOUT' } });
    });

    it('a command handler that crashes mid-batch: restarted, its calls retried, every result in', async () => {
      const marker = path.join(tmp.dir, `crashed-${mode}`);
      const titles = ['Road bike', 'Lamp', 'Kids bike', 'Sofa', 'Bike helmet', 'Desk'];
      // Slow answers keep several calls in flight when the crashing one arrives.
      await push(
        titles.map((title, i) => ({
          type: 'predict',
          article_id: 100 + i,
          title,
          delay: 300,
          event_id: `p${i}`,
        })),
      );
      await push([
        { type: 'predict', article_id: 199, title: 'crash', crashOnce: marker, event_id: 'p-crash' },
      ]);
      for (const [i, title] of titles.entries()) {
        const expected = /bike/i.test(title) ? 'bikes' : 'other';
        await waitUntil(
          async () => (await article(100 + i, 'category'))?.category === expected,
          30_000,
          `category of ${title}`,
        );
      }
      await waitUntil(
        async () => (await article(199, 'category'))?.category === 'other',
        30_000,
        'the crashing one, retried',
      );
    });

    it('always fails: onFailure and the dead letters; replayed after the fix, it succeeds', async () => {
      await push([{ type: 'broken', article_id: 5, event_id: 'a5-broken' }]);
      // onFailure carries the error and the attempts; a feature reads it.
      await waitUntil(
        async () => {
          const failures = (await article(5, 'failures(input: {count: 5}) { code attempts }'))?.failures;
          return Array.isArray(failures) && failures.length === 1 ? failures : undefined;
        },
        30_000,
        'the onFailure event as a feature row',
      ).then((failures) => expect(failures).toEqual([{ code: 'LARDER_ERR_ENRICH_HANDLER', attempts: 2 }]));

      const listed = await larder('dlq', 'list', '--enricher', 'broken');
      expect(listed).toMatch(/attempts=2 {2}LARDER_ERR_ENRICH_HANDLER {2}still broken/);
      const id = listed.split(/\s+/)[0]!;
      const shown = JSON.parse(await larder('dlq', 'show', '--enricher', 'broken', id)) as Record<
        string,
        unknown
      >;
      expect(shown).toMatchObject({ id, state: 'dead', input: { article_id: 5 } });

      // The fix: what the handler was missing is there now.
      writeFileSync(path.join(registryDir, 'handlers', 'fixed'), 'yes');
      expect(await larder('dlq', 'replay', '--enricher', 'broken', '--all')).toContain(
        'replayed 1 dead invocations of broken',
      );
      await waitUntil(
        async () => (await article(5, 'repaired'))?.repaired === true,
        30_000,
        'the replayed invocation',
      );
      expect(await status('broken', id)).toMatchObject({
        state: 'succeeded',
        attempts: 1,
        result: { fixed: true },
      });
      expect(await larder('dlq', 'list', '--enricher', 'broken')).toContain(
        '0 shown, 0 dead invocations of broken',
      );
    });

    it('reports queue depth, states, outcomes and handler latency per enricher on /metrics', async () => {
      const scrapeFrom = mode === 'embedded' ? base : undefined;
      if (scrapeFrom === undefined) return; // the fleet's own --metrics-port is checked by the SIGKILL test
      await waitUntil(
        async () => {
          const text = await (await fetch(`${base}/metrics`)).text();
          return (
            /^larder_enrich_queue_depth\{enricher="doubler"\} 0$/m.test(text) &&
            /^larder_enrich_invocations\{enricher="doubler",state="succeeded"\} [1-9]/m.test(text) &&
            /^larder_enrich_invocations\{enricher="sleepy",state="dead"\} 1$/m.test(text) &&
            /^larder_enrich_outcomes_total\{enricher="flaky",outcome="failed"\} 1$/m.test(text) &&
            /^larder_enrich_handler_duration_seconds_count\{enricher="doubler",outcome="ok"\} [1-9]/m.test(
              text,
            ) &&
            /^larder_enrich_oldest_age_seconds\{enricher="doubler"\} 0$/m.test(text) &&
            /^larder_enrich_concurrency\{enricher="predictor"\} [4-8]$/m.test(text)
          );
        },
        30_000,
        'the enrichment metrics',
      );
    });
  },
);
