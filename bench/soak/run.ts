/**
 * Soak run (not in CI): a real `larder serve` under mixed traffic for a while (default 10 min),
 * reporting the server's RSS over time, errors by kind, and a final row check (every event pushed
 * and answered 200, and every event published to the stream, is there exactly once).
 *
 *   npm run bench -- soak [--minutes 10] [--redis redis://127.0.0.1:6379] [--sample-seconds 10]
 *
 * Traffic, all at once: HTTP push batches (4 clients), Redis Streams publishing (a topic of its
 * own, consumed by the server), GraphQL reads of random users (4 clients), and a registry reload
 * every 20 s (a description toggled in a file of its own). Exit code 1 when the row check fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    redis: { type: 'string', default: process.env.LARDER_REDIS_URL ?? 'redis://127.0.0.1:6379' },
    'sample-seconds': { type: 'string', default: '10' },
  },
});
const DURATION_MS = Number(args.minutes) * 60_000;
const SAMPLE_MS = Number(args['sample-seconds']) * 1000;
const USERS = 2_000;
/** Rows a user may hold (the feature's maxCount): the run stops sending to a user past it. */
const MAX_ROWS = 10_000;
const LARDER = fileURLToPath(new URL('../../bin/larder.js', import.meta.url));

const dir = mkdtempSync(path.join(tmpdir(), 'larder-soak-'));
const topic = `larder-soak:${randomBytes(5).toString('hex')}`;
const registryDir = path.join(dir, 'registry');

function registry(description: string): string {
  return `entities:
  user: { prefix: "u:", idType: int, idField: user_id }
streams:
  pushed: { source: http, timestampField: ts, eventIdField: event_id }
  streamed:
    source: redis
    connection: { url: "${args.redis}" }
    timestampField: ts
    eventIdField: event_id
    options: { fetchWait: 50ms }
features:
  user:
    events_seen:
      featureType: action
      maxCount: ${MAX_ROWS}
      description: ${JSON.stringify(description)}
      events:
        - { streamName: pushed, topic: t, fields: [{ name: n, type: int }] }
        - { streamName: streamed, topic: "${topic}", fields: [{ name: n, type: int }] }
    last_seen:
      events:
        - { streamName: pushed, topic: t, fields: [{ name: n, type: int }] }
`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

const errors = new Map<string, number>();
const error = (kind: string): void => void errors.set(kind, (errors.get(kind) ?? 0) + 1);
const expected = new Map<number, Set<number>>();
const expectRow = (user: number, n: number): void => {
  let set = expected.get(user);
  if (set === undefined) expected.set(user, (set = new Set()));
  set.add(n);
};

let next = 0;
function events(count: number): { user_id: number; event_id: string; ts: number; n: number }[] {
  return Array.from({ length: count }, () => {
    const n = next++;
    return { user_id: n % USERS, event_id: `s${n}`, ts: Date.now(), n };
  });
}

async function main(): Promise<void> {
  mkdirSync(registryDir, { recursive: true });
  writeFileSync(path.join(registryDir, 'soak.yaml'), registry('soak v0'));
  const port = await freePort();
  const server: ChildProcess = spawn(
    process.execPath,
    [
      LARDER,
      'serve',
      '--registry',
      registryDir,
      '--data',
      path.join(dir, 'data'),
      '--port',
      String(port),
      '--workers',
      '1',
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      // The final row check reads whole histories: lift the per-request row limit for it.
      env: { ...process.env, LARDER_LOG_LEVEL: 'warn', LARDER_MAX_ROWS: '100000000' },
    },
  );
  // Never leave the server behind, whatever happens to this script.
  process.once('exit', () => server.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (i > 120) throw new Error('the server did not become ready');
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await sleep(250);
  }
  const redis = new Redis(args.redis);
  const deadline = Date.now() + DURATION_MS;
  const counts = { pushed: 0, streamed: 0, reads: 0, reloads: 0 };
  const samples: { at: number; rssMb: number }[] = [];
  const started = Date.now();

  const pusher = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const batch = events(100);
      try {
        const res = await fetch(`${base}/v1/streams/pushed/t`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson' },
          body: batch.map((e) => JSON.stringify(e)).join('\n'),
          signal: AbortSignal.timeout(10_000),
        });
        if (res.status === 200) {
          const body = (await res.json()) as { accepted: number };
          if (body.accepted !== batch.length) error('push: events rejected');
          for (const e of batch) expectRow(e.user_id, e.n);
          counts.pushed += batch.length;
        } else error(`push: HTTP ${res.status}`);
      } catch {
        error('push: network');
      }
    }
  };
  const publisher = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const batch = events(100);
      const pipeline = redis.pipeline();
      for (const e of batch) pipeline.xadd(topic, '*', 'data', JSON.stringify(e));
      try {
        await pipeline.exec();
        for (const e of batch) expectRow(e.user_id, e.n);
        counts.streamed += batch.length;
      } catch {
        error('stream: publish');
      }
      await sleep(20);
    }
  };
  const reader = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const user = Math.floor(Math.random() * USERS);
      try {
        const res = await fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: `{ user(id: ${user}) { last_seen events_seen(input: {count: 10}) { n } } }`,
          }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json()) as { errors?: unknown };
        if (res.status !== 200 || body.errors !== undefined) error(`read: HTTP ${res.status}`);
        counts.reads++;
      } catch {
        error('read: network');
      }
    }
  };
  const reloader = async (): Promise<void> => {
    while (Date.now() + 20_000 < deadline) {
      await sleep(20_000);
      writeFileSync(path.join(registryDir, 'soak.yaml'), registry(`soak v${++counts.reloads}`));
    }
  };
  const sampler = async (): Promise<void> => {
    while (Date.now() < deadline) {
      samples.push({ at: Math.round((Date.now() - started) / 1000), rssMb: rssMb(server.pid ?? 0) });
      await sleep(SAMPLE_MS);
    }
  };
  await Promise.all([
    ...Array.from({ length: 4 }, pusher),
    publisher(),
    ...Array.from({ length: 4 }, reader),
    reloader(),
    sampler(),
  ]);
  samples.push({ at: Math.round((Date.now() - started) / 1000), rssMb: rssMb(server.pid ?? 0) });

  // Let the consumer finish the stream, then check every user's rows.
  const total = [...expected.values()].reduce((n, s) => n + s.size, 0);
  console.log(`soak: traffic done; waiting for ${total} rows`);
  let stored = new Map<number, number[]>();
  for (let wait = 0; wait < 60; wait++) {
    stored = await rows(base);
    const have = [...stored.values()].reduce((n, r) => n + r.length, 0);
    if (have >= total) break;
    if (wait % 10 === 0) console.log(`soak: ${have} of ${total} rows so far`);
    await sleep(1_000);
  }
  let lost = 0;
  let doubled = 0;
  let unexpected = 0;
  for (let user = 0; user < USERS; user++) {
    const got = stored.get(user) ?? [];
    const want = expected.get(user) ?? new Set<number>();
    doubled += got.length - new Set(got).size;
    for (const n of want) if (!got.includes(n)) lost++;
    for (const n of got) if (!want.has(n)) unexpected++;
  }
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await redis.del(topic, `${topic}:dlq`, ...(await redis.keys(`${topic}:retry:*`)));
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });

  console.log(`soak: ${Math.round((Date.now() - started) / 1000)} s of traffic`);
  console.log(
    `  pushed ${counts.pushed}, streamed ${counts.streamed}, reads ${counts.reads}, reloads ${counts.reloads}`,
  );
  console.log(`  RSS (MB) over time: ${samples.map((s) => `${s.at}s=${s.rssMb}`).join(' ')}`);
  const rss = samples.map((s) => s.rssMb);
  console.log(`  RSS min ${Math.min(...rss)} max ${Math.max(...rss)} last ${rss.at(-1)}`);
  console.log(
    `  errors: ${errors.size === 0 ? 'none' : [...errors].map(([k, n]) => `${k} ×${n}`).join(', ')}`,
  );
  console.log(`  rows: expected ${total}, lost ${lost}, doubled ${doubled}, unexpected ${unexpected}`);
  if (lost + doubled + unexpected > 0) process.exitCode = 1;
}

/** Every user's `events_seen` rows (their `n`), newest first, through GraphQL. */
async function rows(base: string): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  for (let from = 0; from < USERS; from += 100) {
    const ids = Array.from({ length: 100 }, (_, i) => from + i);
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ users(ids: [${ids.join(',')}]) { events_seen(input: {count: ${MAX_ROWS}}) { n } } }`,
      }),
    });
    const body = (await res.json()) as {
      data?: { users: ({ events_seen: { n: number }[] } | null)[] };
      errors?: unknown;
    };
    if (body.data === undefined || body.data === null)
      throw new Error(`row read failed: ${JSON.stringify(body.errors)}`);
    const users = body.data.users;
    ids.forEach((id, k) =>
      out.set(
        id,
        (users[k]?.events_seen ?? []).map((r) => r.n),
      ),
    );
  }
  return out;
}

await main();
