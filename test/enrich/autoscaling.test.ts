import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { openRuntime } from '../../src/runtime/open-runtime.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';

/**
 * Autoscaling on a real queue (LMDB), real worker threads and a handler that takes 50 ms: while
 * invocations arrive faster than `min` slots can finish them, the worker's concurrency climbs
 * toward `max`; once the backlog has drained it steps back to `min`. The assertions read the
 * concurrency the worker recorded, never the clock.
 */
describe('enrichment autoscaling', { timeout: 120_000 }, () => {
  const tmp = tempDir('larder-autoscale-');
  afterAll(() => tmp.remove());

  it('rises from min toward max while the backlog grows, and falls back once it drains', async () => {
    const registryDir = path.join(tmp.dir, 'registry');
    mkdirSync(path.join(registryDir, 'handlers'), { recursive: true });
    writeFileSync(
      path.join(registryDir, 'handlers', 'slow.mjs'),
      'export default async (input) => { await new Promise((r) => setTimeout(r, 50)); return { n: input.n }; };\n',
    );
    writeFileSync(
      path.join(registryDir, 'registry.yaml'),
      [
        'entities: {item: {idType: int, idField: item_id}}',
        'enrichers:',
        '  slow:',
        '    handler: {module: ./handlers/slow.mjs}',
        '    concurrency: {min: 1, max: 8}',
        '    onSuccess: {streamName: results, topic: slow}',
        'features:',
        '  item:',
        '    n: {events: [{streamName: results, topic: slow, fields: [{name: result.n, rename: n, type: int}]}]}',
        '',
      ].join('\n'),
    );
    const configFile = path.join(tmp.dir, 'larder.yaml');
    writeFileSync(
      configFile,
      'enrich: {scaleInterval: 100ms, scaleStep: 1, pollInterval: 20ms, threads: 2}\n',
    );
    const runtime = await openRuntime({
      registryDir,
      dataDir: path.join(tmp.dir, 'data'),
      config: loadConfig(configFile),
      logger: pino({ level: 'silent' }),
      watch: false,
    });
    try {
      const workers = await runtime.startEnrichWorkers();
      const worker = workers.worker('slow')!;
      let overLimit = 0;
      const sampler = setInterval(() => {
        if (worker.running > worker.concurrency) overLimit++;
      }, 5);

      // About 100 invocations a second for 2 s: one slot finishes 20 a second.
      let n = 0;
      for (let burst = 0; burst < 20; burst++) {
        await runtime.queue.put(
          'slow',
          Array.from({ length: 10 }, () => ({ id: `i-${n}`, input: { item_id: n, n: n++ } })),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await waitUntil(
        async () => (await runtime.queue.counts('slow')).succeeded === n,
        60_000,
        'the backlog to drain',
      );
      await waitUntil(() => worker.concurrency === 1, 30_000, 'concurrency back at min');
      clearInterval(sampler);

      const limits = worker.concurrencyHistory.map((h) => h.limit);
      const peak = Math.max(...limits);
      expect(limits[0]).toBe(1);
      expect(peak).toBeGreaterThanOrEqual(5);
      expect(peak).toBeLessThanOrEqual(8);
      expect(limits.at(-1)).toBe(1);
      // Up a step at a time, then down a step at a time.
      for (let i = 1; i < limits.length; i++) expect(Math.abs(limits[i]! - limits[i - 1]!)).toBe(1);
      // A slot is taken only when it is free.
      expect(overLimit).toBe(0);
    } finally {
      await runtime.close();
    }
  });
});
