import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { enrichConfigFromSection } from '../../src/config/enrich-section.ts';
import { startEnrichWorkers } from '../../src/enrich/enrich-workers.ts';
import { LmdbInvocationQueue } from '../../src/enrich/lmdb-invocation-queue.ts';
import type { Ingestor } from '../../src/ingest/ingestor-contract.ts';
import type { IncomingEvent } from '../../src/ingest/types.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import type { EnricherDef } from '../../src/registry/types.ts';
import { openLmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { registry } from '../support/registry-builder.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';

const HANDLER = fileURLToPath(new URL('./fixtures/counter-handler.js', import.meta.url));

function enricher(name: string, min: number): EnricherDef {
  return {
    name,
    trigger: undefined,
    input: [],
    handler: { kind: 'module', path: HANDLER },
    concurrency: { min, max: 8 },
    timeoutMs: 5_000,
    retries: { max: 0, backoffMs: 0, maxBackoffMs: 0 },
    onSuccess: { streamName: 'out', topic: name },
    onFailure: undefined,
    pos: { file: 'test.yaml', line: 1, column: 1 },
  };
}

/** An honest recording ingestor: what the workers published, nothing written anywhere. */
function recordingIngestor(): Ingestor & { readonly events: IncomingEvent[] } {
  const events: IncomingEvent[] = [];
  return {
    events,
    async ingest(batch) {
      events.push(...batch);
      return { accepted: batch.length, filtered: 0, rejected: 0, rejections: [], results: [] };
    },
  };
}

describe('enrichment workers follow registry reloads', { timeout: 60_000 }, () => {
  const tmp = tempDir('larder-enrich-reload-');
  const env = openLmdbEnv(tmp.dir);
  afterAll(async () => {
    await env.close();
    tmp.remove();
  });

  it('starts, restarts a changed one with its new definition, and stops a removed one', async () => {
    const holder = new RegistryHolder(
      registry({ features: [], enrichers: [enricher('a', 1), enricher('b', 1)] }),
    );
    const queue = new LmdbInvocationQueue(env);
    const ingestor = recordingIngestor();
    const workers = await startEnrichWorkers({
      registry: holder,
      queue,
      ingestor,
      config: enrichConfigFromSection({ threads: 1, pollInterval: 20 }),
      logger: pino({ level: 'silent' }),
    });
    try {
      expect(workers.workers().map((w) => w.name)).toEqual(['a', 'b']);
      const before = workers.worker('a');
      holder.replace(registry({ features: [], enrichers: [enricher('a', 3)] }));
      await waitUntil(
        () => workers.worker('b') === undefined && workers.worker('a') !== before,
        10_000,
        'the reload',
      );
      expect(workers.worker('a')?.concurrency).toBe(3);

      await queue.put('a', [{ id: 'x-1', input: { n: 21 } }]);
      await waitUntil(() => ingestor.events.length === 1, 10_000, 'the result event');
      expect(ingestor.events[0]).toMatchObject({
        stream: 'out',
        topic: 'a',
        body: { n: 21, result: { doubled: 42 }, invocationId: 'x-1', eventId: 'x-1.result' },
      });
    } finally {
      await workers.stop();
    }
  });
});
