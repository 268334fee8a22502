import { cpSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { startLarder, type LarderProcess } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';
import { get, push, rowIdsByUser } from './support/http.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/marketplace', import.meta.url));
/** Enough users that no one passes the feature's maxCount (50) in this test. */
const USERS = 1_000;
const BATCH = 50;

/**
 * `kill -9` of a server while clients push: every event answered 200 is there after the restart,
 * none twice; pushing the unanswered ones again (what a client does) leaves every event exactly
 * once. Real `larder serve` processes on one data directory.
 */
describe('SIGKILL during HTTP push', () => {
  const tmp = tempDir('larder-kill-push-');
  const registry = path.join(tmp.dir, 'registry');
  const data = path.join(tmp.dir, 'data');
  cpSync(EXAMPLE, registry, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  let server: LarderProcess | undefined;
  afterAll(async () => {
    await server?.stop('SIGKILL');
    tmp.remove();
  });

  async function start(port: number): Promise<LarderProcess> {
    const larder = startLarder(
      ['serve', '--registry', registry, '--data', data, '--port', String(port), '--workers', '1'],
      { LARDER_LOG_LEVEL: 'error' },
    );
    await waitUntil(
      async () => (await get(port, '/readyz')).status === 200,
      30_000,
      'the server to be ready',
    );
    return larder;
  }

  const event = (n: number) => ({
    event_name: 'search',
    event_id: `k${n}`,
    ts: Date.now() - 60_000 + (n % 60_000),
    user_id: n % USERS,
    params: { query: `q${n}`, result_count: 1 },
  });

  it('acked events survive, none doubled; a client retry makes it exact', async () => {
    const port = await freePort();
    server = await start(port);
    const acked = new Set<number>();
    const sent: number[][] = [];
    let next = 0;
    let killed = false;
    // Four clients push batches until the server dies under them.
    const client = async (): Promise<void> => {
      while (!killed) {
        const ns = Array.from({ length: BATCH }, () => next++);
        sent.push(ns);
        const answer = await push(port, 'client_event', 'client_event_cleansed', ns.map(event), 5_000);
        if (answer.status === 200 && answer.body.accepted === BATCH) for (const n of ns) acked.add(n);
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await waitUntil(() => acked.size >= 2_000, 60_000, 'some pushes to be answered');
    server.child.kill('SIGKILL');
    killed = true;
    await server.exited;
    await Promise.all(clients);
    const all = sent.flat();
    expect(all.length).toBeLessThan(USERS * 50);

    server = await start(port);
    const ids = [...Array(USERS).keys()];
    const after = await rowIdsByUser(port, ids, 'recent_search_keywords', 'keyword', 50);
    const stored = [...after.values()].flat();
    expect(new Set(stored).size).toBe(stored.length);
    const storedSet = new Set(stored);
    for (const n of acked) expect(storedSet.has(`q${n}`), `acked event ${n}`).toBe(true);
    // Whatever else is there was sent (in flight at the kill), never invented.
    for (const keyword of storedSet) expect(all).toContain(Number(keyword.slice(1)));

    // The clients retry everything they did not see answered: every event once, none twice.
    const unanswered = all.filter((n) => !acked.has(n));
    for (let i = 0; i < unanswered.length; i += BATCH) {
      const answer = await push(
        port,
        'client_event',
        'client_event_cleansed',
        unanswered.slice(i, i + BATCH).map(event),
      );
      expect(answer.status).toBe(200);
    }
    const final = [
      ...(await rowIdsByUser(port, ids, 'recent_search_keywords', 'keyword', 50)).values(),
    ].flat();
    expect(final.length).toBe(all.length);
    expect(new Set(final)).toEqual(new Set(all.map((n) => `q${n}`)));
  }, 120_000);
});
