import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { serveArgs } from './support.ts';
import { tempDir } from '../support/temp-dir.ts';
import { startLarder } from '../support/larder-process.ts';
import { waitUntil } from '../support/wait-until.ts';

/** In embedded mode `larder serve` runs the batch cron loop: a scheduled ingestion lands without a command. */
describe('larder serve runs scheduled ingestions (embedded)', { timeout: 120_000 }, () => {
  const tmp = tempDir('larder-serve-cron-');
  afterAll(() => tmp.remove());

  it('a cron ingestion feeds an event-less feature that GraphQL then serves', async () => {
    const registryDir = path.join(tmp.dir, 'registry');
    mkdirSync(path.join(registryDir, 'data'), { recursive: true });
    writeFileSync(
      path.join(registryDir, 'data', 'regions.jsonl'),
      '{"user_id": 1, "region": 11}\n{"user_id": 2, "region": 22}\n',
    );
    writeFileSync(
      path.join(registryDir, 'r.yaml'),
      [
        'entities: {user: {idType: int}}',
        'features:',
        '  user:',
        '    region_id: {description: home region}',
        'ingestions:',
        '  regions:',
        '    source: {format: jsonl, path: "data/*.jsonl"}',
        '    feature: user.region_id',
        '    entityIdField: user_id',
        '    fields: [{name: region, rename: region_id, type: int}]',
        '    schedule: "*/2 * * * * *"',
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = startLarder(serveArgs(registryDir, path.join(tmp.dir, 'data'), port));
    try {
      const query = async () => {
        const res = await fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ users(ids: [1, 2]) { id region_id } }' }),
        });
        return (await res.json()) as { data?: { users: { id: string; region_id: number | null }[] } };
      };
      await waitUntil(
        async () => (await query()).data?.users[1]?.region_id === 22,
        90_000,
        `the scheduled ingestion to land (server output: ${server.output().slice(-500)})`,
      );
      expect((await query()).data).toEqual({
        users: [
          { id: '1', region_id: 11 },
          { id: '2', region_id: 22 },
        ],
      });
    } finally {
      await server.stop();
    }
  });
});
