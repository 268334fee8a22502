import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { openLmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import { LmdbDeadLetterStore } from '../../src/store/lmdb/lmdb-dead-letters.ts';
import { createIngestor } from '../../src/ingest/ingestor.ts';
import { tempDir } from '../support/temp-dir.ts';

const SEED = fileURLToPath(new URL('../fixtures/registries/seed', import.meta.url));

/** The seed layout declares no streams: routing by subTopic must still work, through the defaults. */
describe('the seed registry (the original layout), unchanged, ingests events', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('routes by the default subTopic field and writes action rows', async () => {
    const registry = new RegistryHolder(await loadRegistry(SEED));
    const env = openLmdbEnv(tmp.dir);
    const store = new LmdbStore(env);
    await store.open();
    const ingestor = createIngestor({ registry, store, deadLetters: new LmdbDeadLetterStore(env) });
    const base = { stream: 'client_event', topic: 'client_event_cleansed', receivedAt: 1_700_000_000_000 };
    const report = await ingestor.ingest([
      {
        ...base,
        body: {
          subTopic: 'view_article_v1',
          user_id: '1111',
          country_code: 'kr',
          params: { article_id_v1: 5 },
        },
      },
      {
        ...base,
        body: {
          subTopic: 'view_article_v2',
          user_id: '1111',
          country_code: 'kr',
          params: { article_id_v2: 6 },
        },
      },
      {
        ...base,
        body: {
          subTopic: 'view_article_v2',
          user_id: '1111',
          country_code: 'us',
          params: { article_id_v2: 7 },
        },
      },
    ]);
    expect(report).toMatchObject({ accepted: 2, filtered: 1, rejected: 0 });
    const [rows] = await store.getRanges([
      { pk: 'user:1111#recent_view_articles', count: 10, lastNSec: undefined },
    ]);
    expect(rows?.map((r) => r.values.article_id).sort()).toEqual([5, 6]);
    await store.close();
    await env.close();
  });
});
