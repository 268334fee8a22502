import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { tempDir } from '../support/temp-dir.ts';
import { LARDER_BIN, startLarder, type LarderProcess } from '../support/larder-process.ts';
import { waitUntil } from '../support/wait-until.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/marketplace', import.meta.url));
const run = promisify(execFile);

/** End to end through the real CLI process: push over HTTP, query GraphQL, reload the registry. */
// Generous limits: the CLI starts through tsx, and CI machines are shared and loaded.
describe('larder serve, embedded, end to end', { timeout: 120_000 }, () => {
  const tmp = tempDir('larder-e2e-');
  const registryDir = path.join(tmp.dir, 'registry');
  const dataDir = path.join(tmp.dir, 'data');
  let base = '';
  let server: LarderProcess;
  const now = Date.now();

  async function graphql(
    query: string,
  ): Promise<{ data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] }> {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as never;
  }

  async function push(stream: string, topic: string, body: string, contentType = 'application/json') {
    const res = await fetch(`${base}/v1/streams/${stream}/${topic}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    cpSync(EXAMPLE, registryDir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = startLarder(
      // One process: with several workers each reloads the registry on its own, a moment apart.
      ['serve', '--registry', registryDir, '--data', dataDir, '--port', String(port), '--workers', '1'],
      {
        LARDER_LOG_LEVEL: 'info',
      },
    );
    await waitUntil(async () => (await fetch(`${base}/readyz`)).status === 200, 60_000, 'readyz');
  });

  afterAll(async () => {
    await server?.stop();
    tmp.remove();
  });

  it('ingests pushed events durably and reports accepted, filtered and rejected', async () => {
    const articles = [1, 2].map((id) =>
      JSON.stringify({
        event_id: `a${id}`,
        type: 'updated',
        article_id: id,
        ts: now - 10_000,
        after: { title: `Bike ${id}`, price: 1000 * id, category_id: 7 },
      }),
    );
    const cdc = await push('server_event', 'cdc_article', articles.join('\n'), 'application/x-ndjson');
    expect(cdc.status).toBe(200);
    expect(cdc.body).toMatchObject({ accepted: 2, filtered: 0, rejected: 0 });

    const client = [
      { event_id: 'o1', event_name: 'app_open', user_id: 7, ts: now - 9000, device: { os: 'ios' } },
      {
        event_id: 'k1',
        event_name: 'keyword_alert_on',
        user_id: 7,
        ts: now - 8000,
        params: { keyword: 'bike' },
      },
      {
        event_id: 'k2',
        event_name: 'keyword_alert_on',
        user_id: 7,
        ts: now - 7000,
        params: { keyword: 'lego' },
      },
      {
        event_id: 'k3',
        event_name: 'keyword_alert_off',
        user_id: 7,
        ts: now - 6000,
        params: { keyword: 'bike' },
      },
      {
        event_id: 'v1',
        event_name: 'view_article_v1',
        user_id: 7,
        ts: now - 3000,
        country_code: 'kr',
        params: { article_id_v1: 1 },
      },
      {
        event_id: 'v2',
        event_name: 'view_article_v2',
        user_id: 7,
        ts: now - 2000,
        country_code: 'kr',
        params: { article_id_v2: 2 },
      },
      // Filtered: the feature only wants Korean traffic.
      {
        event_id: 'v3',
        event_name: 'view_article_v1',
        user_id: 7,
        ts: now - 1500,
        country_code: 'jp',
        params: { article_id_v1: 2 },
      },
      // Poison: the user id must be an int.
      {
        event_id: 'p1',
        event_name: 'view_article_v1',
        user_id: 'not-a-number',
        ts: now,
        country_code: 'kr',
        params: { article_id_v1: 1 },
      },
      {
        event_id: 's1',
        event_name: 'search',
        user_id: 7,
        ts: now - 1000,
        params: { query: 'road bike', result_count: '12' },
      },
    ];
    const res = await push('client_event', 'client_event_cleansed', JSON.stringify(client));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 7, filtered: 1, rejected: 1 });
    const rejections = res.body.rejections as { index: number; code: string }[];
    expect(rejections).toEqual([expect.objectContaining({ index: 7, code: 'LARDER_ERR_EVENT_ENTITY_ID' })]);

    // A redelivered event is absorbed: same event id, no second row.
    const again = await push('client_event', 'client_event_cleansed', JSON.stringify(client[4]));
    expect(again.body).toMatchObject({ accepted: 1 });
  });

  it('serves exactly what was ingested over GraphQL', async () => {
    const result = await graphql(`
      {
        user(id: 7) {
          id
          os
          notification_keywords
          recent_view_articles(input: { count: 10 }) {
            article_id
            timestamp
          }
          recent_search_keywords {
            keyword
            result_count
            timestamp
          }
        }
        flea_articles(ids: [2, 1, 99]) {
          id
          title
          price
          category
        }
      }
    `);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      user: {
        id: '7',
        os: 'ios',
        notification_keywords: ['lego'],
        recent_view_articles: [
          { article_id: 2, timestamp: now - 2000 },
          { article_id: 1, timestamp: now - 3000 },
        ],
        recent_search_keywords: [{ keyword: 'road bike', result_count: 12, timestamp: now - 1000 }],
      },
      flea_articles: [
        { id: '2', title: 'Bike 2', price: 2000, category: 7 },
        { id: '1', title: 'Bike 1', price: 1000, category: 7 },
        { id: '99', title: null, price: null, category: null },
      ],
    });
  });

  it('refuses a count above maxCount with a coded error instead of clamping', async () => {
    const result = await graphql(
      '{ user(id: 7) { recent_view_articles(input: {count: 101}) { article_id } } }',
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('LARDER_ERR_COUNT_TOO_LARGE');
  });

  it('keeps the poison event in the dead-letter table', async () => {
    const { stdout } = await run(process.execPath, [LARDER_BIN, 'dlq', 'list', '--data', dataDir, '--json']);
    const entries = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ code: 'LARDER_ERR_EVENT_ENTITY_ID', stream: 'client_event' });
    expect(entries[0]?.body).toMatchObject({ event_id: 'p1' });
  });

  it('picks up a registry change without restart, and refuses a broken one', async () => {
    writeFileSync(
      path.join(registryDir, 'login.yaml'),
      [
        'features:',
        '  user:',
        '    last_login_country:',
        '      events:',
        '        - streamName: client_event',
        '          topic: client_event_cleansed',
        '          subTopic: login',
        '          fields: [{name: country_code, type: string}]',
        '',
      ].join('\n'),
    );
    await waitUntil(
      async () => (await graphql('{ user(id: 7) { last_login_country } }')).errors === undefined,
      45_000,
      'the new feature to appear in the schema',
    );
    const pushed = await push(
      'client_event',
      'client_event_cleansed',
      JSON.stringify({ event_id: 'l1', event_name: 'login', user_id: 7, ts: now, country_code: 'kr' }),
    );
    expect(pushed.body).toMatchObject({ accepted: 1 });
    expect((await graphql('{ user(id: 7) { last_login_country } }')).data).toEqual({
      user: { last_login_country: 'kr' },
    });

    // A broken change: the old registry stays in force and the error is logged.
    writeFileSync(
      path.join(registryDir, 'broken.yaml'),
      'features:\n  user:\n    bad:\n      featureType: sometimes\n',
    );
    await waitUntil(() => server.output().includes('LARDER_ERR_SPEC'), 45_000, 'the rejection to be logged');
    const still = await graphql('{ user(id: 7) { os last_login_country } }');
    expect(still.data).toEqual({ user: { os: 'ios', last_login_country: 'kr' } });
    expect(server.child.exitCode).toBeNull();
  });

  it('validate reports a broken registry with file:line:column and exits 1', async () => {
    const failure = await run(process.execPath, [LARDER_BIN, 'validate', registryDir]).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/broken\.yaml:4:\d+\s+LARDER_ERR_SPEC_INVALID_VALUE/);
  });
});
