import { afterAll, describe, expect, it } from 'vitest';
import { BullmqInvocationQueue } from '../../src/enrich/bullmq-invocation-queue.ts';
import { createEnrichments } from '../../src/enrich/enrichments.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import type { EnricherDef } from '../../src/registry/types.ts';
import { registry } from '../support/registry-builder.ts';

const echo: EnricherDef = {
  name: 'echo',
  trigger: undefined,
  input: [],
  handler: { kind: 'command', argv: ['cat'], cwd: '/' },
  concurrency: { min: 1, max: 1 },
  timeoutMs: 1000,
  retries: { max: 0, backoffMs: 0, maxBackoffMs: 0 },
  onSuccess: { streamName: 'out', topic: 'echo' },
  onFailure: undefined,
  pos: { file: 'test.yaml', line: 1, column: 1 },
};

describe('HTTP invocations when the queue cannot be reached', () => {
  // Nothing listens on port 1: every Redis command fails once its few retries are spent.
  const queue = new BullmqInvocationQueue({
    redisUrl: 'redis://127.0.0.1:1',
    prefix: 'none',
    retentionMs: 1000,
  });
  afterAll(() => queue.close());

  it('fails invoke and status with LARDER_ERR_ENRICH_QUEUE (503), not a hang or an internal error', async () => {
    const enrichments = createEnrichments({
      registry: new RegistryHolder(registry({ features: [], enrichers: [echo] })),
      queue,
    });
    await expect(enrichments.invoke('echo', { a: 1 })).rejects.toMatchObject({
      code: 'LARDER_ERR_ENRICH_QUEUE',
      status: 503,
    });
    await expect(enrichments.status('echo', 'h-1')).rejects.toMatchObject({
      code: 'LARDER_ERR_ENRICH_QUEUE',
    });
    await expect(enrichments.invoke('nope', {})).rejects.toMatchObject({
      code: 'LARDER_ERR_ENRICH_UNKNOWN_ENRICHER',
    });
    await expect(enrichments.invoke('echo', [1])).rejects.toMatchObject({ code: 'LARDER_ERR_ENRICH_INPUT' });
  });
});
