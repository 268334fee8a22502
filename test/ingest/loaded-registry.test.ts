import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIngestor } from '../../src/ingest/ingestor.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { tempDir } from '../support/temp-dir.ts';
import { openRealStores, type RealStores } from './real-stores.ts';

// The original layout of docs/spec.md, unchanged, plus the stream and entity blocks beside it.
const FEATURES = `
features:
  user:
    recent_view_articles:
      featureType: action          # static | action
      events:
        - streamName: client_event
          topic: client_event_cleansed
          subTopic: view_article_v1
          filter:
            - name: country_code
              type: string
              condition:
                optype: equal      # equal | not_equal | contain | ...
                values: [kr]
          fields:
            - name: params.article_id_v1   # dotted path into the event
              rename: article_id
              type: int
        - streamName: client_event
          topic: client_event_cleansed
          subTopic: view_article_v2
          filter: [{name: country_code, type: string, condition: {optype: equal, values: [kr]}}]
          fields: [{name: params.article_id_v2, rename: article_id, type: int}]
`;
const EXTENSIONS = `
entities:
  user: {prefix: "u:", idType: int}
streams:
  client_event: {subTopicField: event_name, timestampField: ts, eventIdField: event_id}
`;

describe('ingestion with a registry loaded from YAML', () => {
  let stores: RealStores;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    stores = await openRealStores();
    dir = tempDir('larder-ingest-registry-');
    writeFileSync(path.join(dir.dir, 'features.yaml'), FEATURES);
    writeFileSync(path.join(dir.dir, 'larder.yaml'), EXTENSIONS);
  });
  afterEach(async () => {
    await stores.close();
    dir.remove();
  });

  it('routes both event versions into recent_view_articles, renamed and coerced', async () => {
    const holder = new RegistryHolder(await loadRegistry(dir.dir));
    const ingestor = createIngestor({
      registry: holder,
      store: stores.store,
      deadLetters: stores.deadLetters,
    });
    const now = Date.now();
    const base = { user_id: '1111', country_code: 'kr' };
    const events = [
      {
        ...base,
        event_id: 'a',
        event_name: 'view_article_v1',
        ts: now - 3000,
        params: { article_id_v1: '10' },
      },
      {
        ...base,
        event_id: 'b',
        event_name: 'view_article_v2',
        ts: new Date(now - 2000).toISOString(),
        params: { article_id_v2: 20 },
      },
      {
        ...base,
        event_id: 'c',
        event_name: 'view_article_v1',
        ts: now - 1000,
        country_code: 'jp',
        params: { article_id_v1: 30 },
      },
      { ...base, event_id: 'd', event_name: 'search', ts: now, params: {} },
    ].map((body) => ({ stream: 'client_event', topic: 'client_event_cleansed', body, receivedAt: now }));
    const report = await ingestor.ingest(events);
    expect(report).toMatchObject({ accepted: 2, filtered: 2, rejected: 0 });
    const [rows] = await stores.store.getRanges([
      { pk: 'u:1111#recent_view_articles', count: 30, lastNSec: 3600 },
    ]);
    expect(rows?.map((r) => [r.eventId, r.values.article_id, r.ts])).toEqual([
      ['b', 20, now - 2000],
      ['a', 10, now - 3000],
    ]);
  });
});
