import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchConfigFrom } from '../../src/config/batch-section.ts';
import { openBatch, type OpenedBatch } from '../../src/ingest/batch/open-batch.ts';
import { FloatVector } from '../../src/keys/float-vector.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import { tempDir } from '../support/temp-dir.ts';
import { jsonl, writeFiles } from './support/fixtures.ts';

/** `vector(N)` values backfilled from files by the worker-thread pool: float32 in LMDB, bad rows rejected. */
describe('backfill of vector features', () => {
  const tmp = tempDir('larder-batch-vectors-');
  const registryDir = path.join(tmp.dir, 'registry');
  const dataDir = path.join(tmp.dir, 'data');
  let batch: OpenedBatch;
  const good = Array.from({ length: 30 }, (_, i) => ({ user_id: i, emb: [i, 0.5, -1, 0.1] }));

  beforeAll(async () => {
    writeFiles(registryDir, {
      'data/emb.jsonl': jsonl([...good, { user_id: 100, emb: [1, 2] }, { user_id: 101, emb: 'x' }]),
      'registry.yaml': `entities:
  user: {prefix: "u:", idType: int}
features:
  user:
    embedding:
      events: [{streamName: client_event, topic: emb, fields: [{name: embedding, type: "vector(4)"}]}]
ingestions:
  embeddings:
    source: {format: jsonl, path: data/emb.jsonl}
    feature: user.embedding
    entityIdField: user_id
    fields: [{name: emb, rename: embedding, type: "vector(4)"}]
    maxErrorRate: 0.1
`,
    });
    batch = await openBatch({ config: batchConfigFrom({ threads: 2 }), registryDir, dataDir });
  });

  afterAll(async () => {
    await batch?.close();
    tmp.remove();
  });

  it('stores every good row as a float32 vector and rejects the malformed ones with their code', async () => {
    const view = await batch.runtime.wait((await batch.runtime.submit('embeddings')).id);
    expect(view.state).toBe('succeeded');
    expect(view.progress.written).toBe(30);
    expect(view.progress.rejected).toBe(2);
    expect(view.errorSamples.map((s) => s.code)).toEqual([
      'LARDER_ERR_EVENT_VECTOR',
      'LARDER_ERR_EVENT_VECTOR',
    ]);
    const store = new LmdbStore(dataDir);
    await store.open();
    try {
      const values = await store.getStatic(good.map((g) => `u:${g.user_id}#embedding`));
      values.forEach((v, i) => {
        expect(v?.value).toBeInstanceOf(FloatVector);
        expect(Array.from(v?.value as FloatVector)).toEqual([i, 0.5, -1, Math.fround(0.1)]);
      });
      expect(await store.getStatic(['u:100#embedding', 'u:101#embedding'])).toEqual([undefined, undefined]);
    } finally {
      await store.close();
    }
  });
});
