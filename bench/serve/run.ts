/**
 * Serving benchmark: Profile and Candidates reads against the embedded mode with warm
 * caches, and the ceiling of a bare Fastify route answering responses of the same size, all in the
 * same run: throughput with autocannon (32 connections, closed loop), latency at half the saturated
 * throughput with an evenly paced open-loop generator (paced-load.ts) for both Larder and the bare
 * route. One command:
 *
 *   node --import tsx bench/serve/run.ts [--runs 3] [--duration 10] [--connections 32]
 *       [--users 100000] [--articles 1000000] [--hot-users 5000] [--hot-articles 50000]
 *       [--workers 1] [--hot-ttl 30000] [--data <dir>] [--rate-connections 32]
 *
 * Data (100k users, 1M articles, 50–100 rows per action feature by default) is written straight
 * into the store on the first run and reused afterwards. Every load loop is bounded by count and
 * time; everything listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ensureBenchData, seededRandom } from './generate-data.ts';
import { pacedLoad } from './paced-load.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

function flag(name: string, fallback: number): number;
function flag(name: string, fallback: string): string;
function flag(name: string, fallback: number | string): number | string {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  if (raw === undefined) return fallback;
  return typeof fallback === 'number' ? Number(raw) : raw;
}

const opts = {
  runs: flag('runs', 3),
  duration: flag('duration', 10),
  connections: flag('connections', 32),
  // The fixed-rate (latency) runs: open-loop, evenly paced (bench/serve/paced-load.ts).
  rateConnections: flag('rate-connections', 32),
  users: flag('users', 100_000),
  articles: flag('articles', 1_000_000),
  hotUsers: flag('hot-users', 5_000),
  hotArticles: flag('hot-articles', 50_000),
  workers: flag('workers', 1),
  hotTtl: flag('hot-ttl', 30_000),
  data: flag('data', path.join(os.tmpdir(), 'larder-bench-serve', 'data')),
};
const log = (line: string): void => void process.stdout.write(`${line}\n`);

const PROFILE = `query Profile($id: ID!) { user(id: $id) { os region_id notification_keywords
  recent_view_articles(input: {count: 50}) { article_id timestamp article { title price } }
  recent_search_keywords(input: {count: 50}) { keyword timestamp } } }`;
const CANDIDATES = 'query Candidates($ids: [ID!]!) { flea_articles(ids: $ids) { title price category } }';

interface Server {
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a server process and waits (bounded) for its READY line. */
function startServer(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'server-process.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_HOT_TTL_MS: String(opts.hotTtl) },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server ${args[0]} did not start in 120 s`)), 120_000);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /READY (\d+)/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve({
          port: Number(match[1]),
          child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`server ${args[0]} exited with ${code}`)));
  });
}

interface LoadResult {
  readonly rps: number;
  /** The server process's CPU time (user + system) per request, µs; NaN where /proc is missing. */
  readonly cpuUs: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly errors: number;
  readonly non2xx: number;
}

/**
 * One bounded autocannon run: `duration` seconds, each connection cycling through `bodies`. The
 * requests are prebuilt (no per-request setup), so the load generator spends its time sending.
 */
async function load(port: number, bodies: readonly string[], pid?: number): Promise<LoadResult> {
  const cpuBefore = cpuMs(pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/graphql`,
    connections: opts.connections,
    duration: opts.duration,
    requests: bodies.map((body) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })),
  });
  const served = result.requests.average * opts.duration;
  return {
    rps: result.requests.average,
    cpuUs: ((cpuMs(pid) - cpuBefore) * 1000) / served,
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * CPU time (user + system) a process has used, ms, from /proc (Linux); NaN elsewhere. Unlike
 * request rates, CPU per request barely moves when other processes load the machine.
 */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return Number.NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticksToMs = 10; // USER_HZ is 100 on Linux
  return (Number(fields[11]) + Number(fields[12])) * ticksToMs;
}

/**
 * Latency at a fixed offered rate: evenly paced, open loop (see paced-load.ts), `duration` s.
 * Its percentiles have sub-millisecond resolution, unlike autocannon's whole milliseconds.
 */
async function paced(
  port: number,
  bodies: readonly string[],
  rate: number,
  pid?: number,
): Promise<LoadResult> {
  // Unmeasured first: the pool opens its connections and both sides settle into the paced rhythm
  // (the switch from the saturating closed-loop runs otherwise shows as a backlog in the first
  // seconds).
  await pacedLoad({
    url: `http://127.0.0.1:${port}/graphql`,
    bodies,
    rate,
    seconds: Math.min(5, opts.duration),
    connections: opts.rateConnections,
  });
  const cpuBefore = cpuMs(pid);
  const r = await pacedLoad({
    url: `http://127.0.0.1:${port}/graphql`,
    bodies,
    rate,
    seconds: opts.duration,
    connections: opts.rateConnections,
  });
  const ms = (v: number): number => Math.round(v * 10) / 10;
  const cpuUs = ((cpuMs(pid) - cpuBefore) * 1000) / r.sent;
  return {
    rps: r.rate,
    cpuUs,
    p50: ms(r.p50),
    p99: ms(r.p99),
    p999: ms(r.p999),
    errors: r.errors,
    non2xx: 0,
  };
}

/** Sends every body once (bounded by count and a deadline), so the caches are warm. */
async function warm(port: number, bodies: readonly string[], deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  const agentless = { method: 'POST', headers: { 'content-type': 'application/json' } };
  for (let i = 0; i < bodies.length && Date.now() < deadline; i += 16) {
    await Promise.all(
      bodies.slice(i, i + 16).map(async (body) => {
        const res = await fetch(`http://127.0.0.1:${port}/graphql`, { ...agentless, body });
        await res.arrayBuffer();
      }),
    );
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  log(`# Larder serving benchmark — ${new Date().toISOString()}`);
  log(
    `node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load generator on the same machine`,
  );
  log(`options: ${JSON.stringify(opts)}`);
  log(
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
  await ensureBenchData(
    opts.data,
    { users: opts.users, articles: opts.articles, minRows: 50, maxRows: 100 },
    log,
  );

  const random = seededRandom(7);
  const hotUsers = Array.from({ length: opts.hotUsers }, () => 1 + Math.floor(random() * opts.users));
  const pool = Array.from({ length: opts.hotArticles }, () => 1 + Math.floor(random() * opts.articles));
  // Load runs cycle through at most 1,000 distinct users (each connection holds its requests
  // prebuilt); the warm-up covers every hot user.
  const profileBodies = hotUsers.map((id) =>
    JSON.stringify({ query: PROFILE, variables: { id: String(id) } }),
  );
  const candidateBodies = Array.from({ length: 500 }, () =>
    JSON.stringify({
      query: CANDIDATES,
      variables: { ids: Array.from({ length: 200 }, () => String(pool[Math.floor(random() * pool.length)])) },
    }),
  );

  const larder = await startServer(['larder', path.join(here, 'registry'), opts.data, String(opts.workers)]);
  const tmp = path.join(os.tmpdir(), 'larder-bench-serve');
  mkdirSync(tmp, { recursive: true });
  try {
    // One real answer of each kind: its size is what the ceiling serves; its values are counted.
    const sample = async (body: string): Promise<{ text: string; features: number }> => {
      const res = await fetch(`http://127.0.0.1:${larder.port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const text = await res.text();
      const parsed = JSON.parse(text) as { data?: unknown; errors?: unknown };
      if (parsed.errors !== undefined) throw new Error(`bench query failed: ${text.slice(0, 500)}`);
      return { text, features: countFeatureValues(parsed.data) };
    };
    const profileSample = await sample(profileBodies[0]!);
    const candidateSample = await sample(candidateBodies[0]!);
    log(`profile answer: ${profileSample.text.length} bytes, ${profileSample.features} feature values`);
    log(
      `candidates answer: ${candidateSample.text.length} bytes, ${candidateSample.features} feature values`,
    );
    writeFileSync(path.join(tmp, 'profile.json'), profileSample.text);
    writeFileSync(path.join(tmp, 'candidates.json'), candidateSample.text);

    log('warming the caches (every hot user and candidate set once, twice)...');
    for (let pass = 0; pass < 2; pass++) {
      await warm(larder.port, profileBodies, 300_000);
      await warm(larder.port, candidateBodies, 300_000);
    }
    const cache = (await (await fetch(`http://127.0.0.1:${larder.port}/bench/cache`)).json()) as Record<
      string,
      { hits: number; misses: number }
    >;
    log(`cache after warm-up: ${JSON.stringify(cache)}`);

    const profileLoad = profileBodies.slice(0, 1_000);
    const rows: Record<string, LoadResult[]> = {
      ceilingProfile: [],
      ceilingCandidates: [],
      ceilingHalf: [],
      profile: [],
      candidates: [],
      profileHalf: [],
    };
    for (let run = 1; run <= opts.runs; run++) {
      const cp = await startServer(['ceiling', path.join(tmp, 'profile.json')]);
      rows['ceilingProfile']!.push(await load(cp.port, profileLoad));
      await cp.stop();
      const cc = await startServer(['ceiling', path.join(tmp, 'candidates.json')]);
      rows['ceilingCandidates']!.push(await load(cc.port, candidateBodies));
      await cc.stop();
      const profile = await load(larder.port, profileLoad, larder.child.pid);
      rows['profile']!.push(profile);
      rows['candidates']!.push(await load(larder.port, candidateBodies, larder.child.pid));
      const half = Math.max(1, Math.round(profile.rps / 2));
      rows['profileHalf']!.push(await paced(larder.port, profileLoad, half, larder.child.pid));
      // The same offered rate against the bare route: the latency floor of this machine and load
      // generator, to read the profile's tail latency against.
      const ch = await startServer(['ceiling', path.join(tmp, 'profile.json')]);
      rows['ceilingHalf']!.push(await paced(ch.port, profileLoad, half));
      await ch.stop();
      const ceilingRps = rows['ceilingProfile']!.at(-1)!.rps;
      log(
        `run ${run}/${opts.runs}: ceiling ${Math.round(ceilingRps)} req/s, profile ${Math.round(profile.rps)} req/s (${(profile.rps / ceilingRps).toFixed(2)}, ${Math.round(profile.cpuUs)} µs CPU/req), candidates ${Math.round(rows['candidates']!.at(-1)!.rps)} req/s`,
      );
    }

    const med = (name: string, key: keyof LoadResult): number => median(rows[name]!.map((r) => r[key]));
    const ceilingP = med('ceilingProfile', 'rps');
    const ceilingC = med('ceilingCandidates', 'rps');
    log('');
    log(`## Results (median of ${opts.runs} runs, ${opts.duration} s each, ${opts.connections} connections)`);
    log(
      '| case | req/s | ratio to ceiling | p50 ms | p99 ms | p99.9 ms | feature values/s | server CPU µs/req | errors |',
    );
    log('|---|---|---|---|---|---|---|---|---|');
    const line = (label: string, name: string, ceiling: number, features: number): void => {
      const rps = med(name, 'rps');
      const errors = rows[name]!.reduce((n, r) => n + r.errors + r.non2xx, 0);
      log(
        `| ${label} | ${Math.round(rps)} | ${(rps / ceiling).toFixed(2)} | ${med(name, 'p50')} | ${med(name, 'p99')} | ${med(name, 'p999')} | ${features === 0 ? '-' : Math.round(rps * features)} | ${features === 0 ? '-' : Math.round(med(name, 'cpuUs'))} | ${errors} |`,
      );
    };
    line(`ceiling (bare route, ${profileSample.text.length} B)`, 'ceilingProfile', ceilingP, 0);
    line(`ceiling (bare route, ${candidateSample.text.length} B)`, 'ceilingCandidates', ceilingC, 0);
    line('Profile', 'profile', ceilingP, profileSample.features);
    line('Candidates (200 ids)', 'candidates', ceilingC, candidateSample.features);
    log('');
    const halfRate = Math.round(med('profile', 'rps') / 2);
    log(
      `Profile at half of saturated throughput (${halfRate} req/s offered evenly, open loop, up to ${opts.rateConnections} connections): p50 ${med('profileHalf', 'p50')} ms, p99 ${med('profileHalf', 'p99')} ms, p99.9 ${med('profileHalf', 'p999')} ms, server CPU ${Math.round(med('profileHalf', 'cpuUs'))} µs/req`,
    );
    log(
      `Bare route at the same offered rate: p50 ${med('ceilingHalf', 'p50')} ms, p99 ${med('ceilingHalf', 'p99')} ms, p99.9 ${med('ceilingHalf', 'p999')} ms`,
    );
    log(
      `Machine load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')} (other processes share the cores)`,
    );
    log(
      `Targets: profile >= 0.30 of ceiling -> ${(med('profile', 'rps') / ceilingP).toFixed(2)}; p99 <= 5 ms at half throughput -> ${med('profileHalf', 'p99')} ms`,
    );
    log(
      "Feature values = static values + action rows + joined static values in one answer. Throughput-run latencies are autocannon's (1 ms resolution); half-rate latencies come from the paced generator.",
    );
  } finally {
    await larder.stop();
  }
}

/**
 * Feature values in an answer: each static value (a set counts once), each action row, and each
 * static value of a joined entity. Ids and timestamps are not feature values.
 */
function countFeatureValues(data: unknown): number {
  let n = 0;
  const entity = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'id' || child === null || child === undefined) continue;
      if (Array.isArray(child) && child.length > 0 && typeof child[0] === 'object') {
        for (const row of child as Record<string, unknown>[]) {
          n++; // one action row
          for (const field of Object.values(row))
            if (typeof field === 'object' && field !== null) entity(field);
        }
      } else if (!Array.isArray(child) || child.length > 0) n++;
    }
  };
  for (const root of Object.values((data ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(root)) root.forEach(entity);
    else entity(root);
  }
  return n;
}

await main();
