/**
 * Serving benchmark. Its headline is the DEFAULT case: the server started as a user starts it,
 * `larder serve --registry <dir> --data <dir> --workers 1` with no config file, no `cache:`
 * policy in the registry and no flags (bench/serve/registry-default). In the same run:
 *
 * - the ceiling: a bare Fastify route answering the same bytes (server-process.ts `ceiling`);
 * - Profile (user statics, 2 action features of 50 rows, one joined to an article) and
 *   Candidates (`flea_articles(ids: [200 ids])` title/price/category) with autocannon, closed
 *   loop: req/s, the ratio to the ceiling, feature values/s, the server's CPU and V8 allocation
 *   per request, and during the Profile run the GC time per second and the longest GC pause
 *   (PerformanceObserver 'gc' in the server, gc-observer.ts) and the heap in use;
 * - the same with `--workers 2`, and with the hot caches off (`LARDER_HOT_ENTITY_TTL=0s`, the
 *   default before issue 15);
 * - Profile and the bare route at half the saturated Profile rate with the paced open-loop
 *   generator (paced-process.ts; `--generators` processes each sending a share): p50/p99/p99.9.
 *
 *   node --import tsx bench/serve/run.ts [--runs 3] [--duration 10] [--connections 32]
 *       [--users 100000] [--articles 1000000] [--hot-users 5000] [--hot-articles 100000]
 *       [--generators 2] [--rate-connections 32] [--data <dir>] [--no-workers2] [--no-baseline]
 *       [--semi-space 0,larder,64]
 *
 * `--semi-space` replaces all of the above with a comparison of young-generation sizes at the
 * default settings (`semiSpaceSweep`): one 1-worker server per entry, Profile and Candidates each.
 *
 * Data (100k users, 1M articles, 50–100 rows per action feature) is written once (~80 s) and
 * reused while the generator version and options match. Every load loop is bounded by time;
 * everything listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort } from '../../test/support/free-port.ts';
import type { GcTotals } from './gc-observer.ts';
import { ensureBenchData, seededRandom } from './generate-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');

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
  rateConnections: flag('rate-connections', 32),
  generators: flag('generators', 2),
  users: flag('users', 100_000),
  articles: flag('articles', 1_000_000),
  hotUsers: flag('hot-users', 5_000),
  hotArticles: flag('hot-articles', 100_000),
  data: flag('data', path.join(os.tmpdir(), 'larder-bench-serve', 'data')),
  workers2: !process.argv.includes('--no-workers2'),
  // The previous default (hot caches off) beside the current one, in the same run.
  baseline: !process.argv.includes('--no-baseline'),
  // Young-generation sizes (MB) to compare at the default settings, each its own 1-worker server
  // with `--max-semi-space-size=<n>` in NODE_OPTIONS (0: V8's own default; `<n>:<min>` adds
  // `--min-semi-space-size=<min>`; `larder`: nothing set, larder serve's own default); empty: no sweep.
  semiSpace: flag('semi-space', '')
    .split(',')
    .filter((v) => v !== ''),
};
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const tmp = path.join(os.tmpdir(), 'larder-bench-serve');

const PROFILE = `query Profile($id: ID!) { user(id: $id) { os region_id notification_keywords
  recent_view_articles(input: {count: 50}) { article_id timestamp article { title price } }
  recent_search_keywords(input: {count: 50}) { keyword timestamp } } }`;
const CANDIDATES = 'query Candidates($ids: [ID!]!) { flea_articles(ids: $ids) { title price category } }';

interface Server {
  readonly port: number;
  readonly child: ChildProcess;
  /** Where its processes write their GC totals (gc-observer.ts); undefined for the ceiling. */
  readonly gcDir: string | undefined;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
}

let ceilings = 0;

/**
 * The bare route (server-process.ts `ceiling`) with the GC observer preloaded too (its CPU and
 * allocation per request are the floor Larder's are read against), once it printed its READY
 * line (bounded).
 */
function startCeiling(responseFile: string): Promise<Server> {
  const gcDir = path.join(tmp, `gc-ceiling-${++ceilings}`);
  rmSync(gcDir, { recursive: true, force: true });
  mkdirSync(gcDir, { recursive: true });
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      path.join(here, 'gc-observer.ts'),
      path.join(here, 'server-process.ts'),
      'ceiling',
      responseFile,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_GC_DIR: gcDir } },
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the ceiling did not start in 60 s')), 60_000);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /READY (\d+)/.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      // The observer's first totals file (written every 100 ms) names the pid to measure.
      setTimeout(() => resolve({ port: Number(match[1]), child, gcDir, stop: stopper(child) }), 300);
    });
    child.once('exit', (code) => reject(new Error(`the ceiling exited with ${code}`)));
  });
}

/**
 * `larder serve` as a user starts it (the real CLI, no config file), plus the GC observer
 * preload; ready once `/healthz` answers (bounded).
 */
async function startLarder(
  workers: number,
  extraEnv: NodeJS.ProcessEnv = {},
  name = `w${workers}${extraEnv['LARDER_HOT_ENTITY_TTL'] === undefined ? '' : '-off'}`,
  nodeArgs: readonly string[] = [],
): Promise<Server> {
  const port = await freePort();
  const gcDir = path.join(tmp, `gc-${name}`);
  rmSync(gcDir, { recursive: true, force: true });
  mkdirSync(gcDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_GC_DIR: gcDir, ...extraEnv };
  delete env['LARDER_CONFIG'];
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '--import',
      'tsx',
      '--import',
      path.join(here, 'gc-observer.ts'),
      path.join(root, 'bin', 'larder'),
      'serve',
      '--registry',
      path.join(here, 'registry-default'),
      '--data',
      opts.data,
      '--workers',
      String(workers),
      '--port',
      String(port),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env },
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`larder serve exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('larder serve did not answer /healthz in 120 s');
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { port, child, gcDir, stop: stopper(child) };
}

/**
 * The GC totals of the processes of a server that answer requests (one file per process): the
 * process started, unless others wrote totals too (the cluster primary, or the process `larder
 * serve` re-ran itself from, only wait).
 */
function gcTotals(server: Server): GcTotals[] {
  if (server.gcDir === undefined) return [];
  const all = readdirSync(server.gcDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(server.gcDir!, f), 'utf8')) as GcTotals);
  const serving = all.filter((t) => t.pid !== server.child.pid);
  return serving.length > 0 ? serving : all;
}

/** CPU time (user + system) of a process, ms, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number): number {
  if (!existsSync(`/proc/${pid}/stat`)) return Number.NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100 on Linux
}

/** What a server's processes used over a window: CPU, GC, allocation. */
interface Usage {
  readonly cpuMs: number;
  readonly gcMs: number;
  readonly majorMs: number;
  readonly maxPauseMs: number;
  readonly longPauses: number;
  readonly allocatedBytes: number;
  readonly heapUsedBytes: number;
  readonly newSpaceBytes: number;
}

/** Starts a measurement window over a server's processes; the returned function ends it. */
async function window(server: Server | undefined): Promise<() => Promise<Usage>> {
  const pids = server === undefined ? [] : serverPids(server);
  for (const pid of pids) process.kill(pid, 'SIGUSR2'); // resets the longest pause
  await new Promise((r) => setTimeout(r, 150)); // the totals files catch up
  const before = server === undefined ? [] : gcTotals(server);
  const cpuBefore = pids.reduce((n, pid) => n + cpuMs(pid), 0);
  return async () => {
    const cpuAfter = pids.reduce((n, pid) => n + cpuMs(pid), 0);
    await new Promise((r) => setTimeout(r, 150));
    const after = server === undefined ? [] : gcTotals(server);
    const sum = (list: GcTotals[], key: keyof GcTotals): number => list.reduce((n, t) => n + t[key], 0);
    return {
      cpuMs: cpuAfter - cpuBefore,
      gcMs: sum(after, 'gcMs') - sum(before, 'gcMs'),
      majorMs: sum(after, 'majorMs') - sum(before, 'majorMs'),
      maxPauseMs: Math.max(0, ...after.map((t) => t.maxPauseMs)),
      longPauses: sum(after, 'longPauses') - sum(before, 'longPauses'),
      allocatedBytes: sum(after, 'allocatedBytes') - sum(before, 'allocatedBytes'),
      heapUsedBytes: sum(after, 'heapUsedBytes'),
      newSpaceBytes: Math.max(0, ...after.map((t) => t.newSpaceBytes)),
    };
  };
}

async function measured<T>(server: Server | undefined, body: () => Promise<T>): Promise<[T, Usage]> {
  const end = await window(server);
  const result = await body();
  return [result, await end()];
}

/** The processes that answer requests: the workers that write GC totals (the primary too when alone). */
function serverPids(server: Server): number[] {
  const fromFiles = gcTotals(server).map((t) => t.pid);
  return fromFiles.length > 0 ? fromFiles : [server.child.pid!];
}

interface Row {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly errors: number;
  readonly cpuUsPerReq: number;
  readonly allocKbPerReq: number;
  /** GC time per second of load, percent (summed over the server's processes). */
  readonly gcPercent: number;
  /** GC time per request, µs: steadier than `gcPercent` when the throughput moves with the machine's load. */
  readonly gcUsPerReq: number;
  /** Of `gcPercent`, full (mark-compact) collections. */
  readonly majorGcPercent: number;
  readonly maxPauseMs: number;
  /** GC pauses of 5 ms or more per second of load. */
  readonly longPausesPerS: number;
  readonly heapMb: number;
  /** The young generation's size at the end (largest over the server's processes). */
  readonly newSpaceMb: number;
  readonly generatorCpuUsPerReq?: number;
}

function row(
  r: { rps: number; p50: number; p99: number; p999: number; errors: number },
  u: Usage,
  requests: number,
  seconds: number,
): Row {
  return {
    ...r,
    cpuUsPerReq: (u.cpuMs * 1000) / requests,
    allocKbPerReq: u.allocatedBytes / 1024 / requests,
    gcPercent: (u.gcMs / (seconds * 1000)) * 100,
    gcUsPerReq: (u.gcMs * 1000) / requests,
    majorGcPercent: (u.majorMs / (seconds * 1000)) * 100,
    maxPauseMs: u.maxPauseMs,
    longPausesPerS: u.longPauses / seconds,
    heapMb: u.heapUsedBytes / 2 ** 20,
    newSpaceMb: u.newSpaceBytes / 2 ** 20,
  };
}

/** One bounded autocannon run (closed loop), each connection cycling through `bodies`. */
async function saturate(server: Server, bodies: readonly string[]): Promise<Row> {
  const started = performance.now();
  const [result, usage] = await measured(server, () =>
    autocannon({
      url: `http://127.0.0.1:${server.port}/graphql`,
      connections: opts.connections,
      duration: opts.duration,
      requests: bodies.map((body) => ({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })),
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const requests = result.requests.total;
  return row(
    {
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      p999: result.latency.p99_9,
      errors: result.errors + result.timeouts + result.non2xx,
    },
    usage,
    requests,
    seconds,
  );
}

interface PacedOut {
  readonly sent: number;
  readonly rate: number;
  readonly errors: number;
  readonly latencies: number[];
  readonly generatorCpuUs: number;
}

/**
 * Latency at `rate` offered evenly (open loop), from `opts.generators` generator processes each
 * sending `rate / generators`; their latencies are merged before the percentiles.
 */
async function paced(server: Server, bodiesFile: string, rate: number): Promise<Row> {
  const g = Math.max(1, opts.generators);
  // Every generator warms up first (unmeasured); the window opens once all of them say MEASURING.
  let warmed = 0;
  let allWarm!: () => void;
  const warmDone = new Promise<void>((resolve) => (allWarm = resolve));
  const run = (): Promise<PacedOut> =>
    new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(here, 'paced-process.ts'),
          `http://127.0.0.1:${server.port}/graphql`,
          bodiesFile,
          String(rate / g),
          String(opts.duration),
          String(Math.max(1, Math.round(opts.rateConnections / g))),
          String(Math.min(5, opts.duration)),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.startsWith('MEASURING\n')) {
          out = out.slice('MEASURING\n'.length);
          if (++warmed === g) allWarm();
        }
      });
      child.once('exit', (code) =>
        code === 0 ? resolve(JSON.parse(out) as PacedOut) : reject(new Error(`generator exited ${code}`)),
      );
    });
  const runs = Promise.all(Array.from({ length: g }, run));
  await Promise.race([warmDone, runs]);
  const started = performance.now();
  const end = await window(server);
  const outs = await runs;
  const usage = await end();
  const seconds = (performance.now() - started) / 1000;
  const latencies = outs.flatMap((o) => o.latencies).sort((a, b) => a - b);
  const at = (q: number): number =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 10) / 10;
  const sent = outs.reduce((n, o) => n + o.sent, 0);
  return {
    ...row(
      {
        rps: outs.reduce((n, o) => n + o.rate, 0),
        p50: at(0.5),
        p99: at(0.99),
        p999: at(0.999),
        errors: outs.reduce((n, o) => n + o.errors, 0),
      },
      usage,
      sent,
      seconds,
    ),
    generatorCpuUsPerReq: outs.reduce((n, o) => n + o.generatorCpuUs, 0) / g,
  };
}

/** Sends every body once, 16 at a time (bounded by count and a deadline). */
async function warm(port: number, bodies: readonly string[], deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (let i = 0; i < bodies.length && Date.now() < deadline; i += 16) {
    await Promise.all(
      bodies.slice(i, i + 16).map(async (body) => {
        const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
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

/** One answer of a server, checked for errors, with its number of feature values. */
async function sample(port: number, body: string): Promise<{ text: string; features: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  const parsed = JSON.parse(text) as { data?: unknown; errors?: unknown };
  if (parsed.errors !== undefined) throw new Error(`bench query failed: ${text.slice(0, 500)}`);
  return { text, features: countFeatureValues(parsed.data) };
}

/**
 * `--semi-space 0,32,64`: the default case once per young-generation size, in the same invocation.
 * Every run measures both ceilings, then each server in a rotated order (none always goes first),
 * Profile then Candidates. 0 is V8's own default (`LARDER_SERVE_SEMI_SPACE_MB=0`); any other size
 * goes in NODE_OPTIONS, as a user would set it.
 */
async function semiSpaceSweep(
  profileBodies: readonly string[],
  candidateBodies: readonly string[],
): Promise<void> {
  const servers: { mb: string; server: Server }[] = [];
  try {
    for (const mb of opts.semiSpace) {
      const [max, min] = mb.split(':');
      // NODE_OPTIONS takes no --min-semi-space-size: given on node's command line then.
      const nodeArgs =
        min === undefined ? [] : [`--max-semi-space-size=${max}`, `--min-semi-space-size=${min}`];
      // `larder`: nothing set, what `larder serve` does by itself (serve.semiSpaceMb's default).
      const env: NodeJS.ProcessEnv =
        mb === 'larder'
          ? {}
          : mb === '0'
            ? { LARDER_SERVE_SEMI_SPACE_MB: '0' }
            : min !== undefined
              ? {}
              : { NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --max-semi-space-size=${max}`.trim() };
      servers.push({ mb, server: await startLarder(1, env, `ss${mb.replace(':', '-')}`, nodeArgs) });
    }
    const first = servers[0]!.server;
    const profileSample = await sample(first.port, profileBodies[0]!);
    const candidateSample = await sample(first.port, candidateBodies[0]!);
    const profileFile = path.join(tmp, 'profile.json');
    const candidatesFile = path.join(tmp, 'candidates.json');
    writeFileSync(profileFile, profileSample.text);
    writeFileSync(candidatesFile, candidateSample.text);
    log('warming (every hot user and candidate set once, on each server)...');
    for (const { server } of servers) {
      await warm(server.port, profileBodies, 300_000);
      await warm(server.port, candidateBodies, 300_000);
    }
    const rows: Record<string, Row[]> = {};
    const add = (name: string, r: Row): Row => ((rows[name] ??= []).push(r), r);
    for (let run = 1; run <= opts.runs; run++) {
      const cp = await startCeiling(profileFile);
      add('ceilingProfile', await saturate(cp, profileBodies));
      await cp.stop();
      const cc = await startCeiling(candidatesFile);
      add('ceilingCandidates', await saturate(cc, candidateBodies));
      await cc.stop();
      for (let i = 0; i < servers.length; i++) {
        const { mb, server } = servers[(i + run - 1) % servers.length]!;
        const p = add(`profile${mb}`, await saturate(server, profileBodies));
        const c = add(`candidates${mb}`, await saturate(server, candidateBodies));
        log(
          `run ${run}, semi-space ${mb === '0' ? 'V8 default' : mb}: profile ${Math.round(p.rps)} req/s, ${Math.round(p.cpuUsPerReq)} µs, GC ${p.gcUsPerReq.toFixed(1)} µs/req ${p.gcPercent.toFixed(1)}% (major ${p.majorGcPercent.toFixed(1)}%), max pause ${p.maxPauseMs.toFixed(1)} ms, new space ${p.newSpaceMb} MB; candidates ${Math.round(c.rps)} req/s, GC ${c.gcPercent.toFixed(1)}%, max pause ${c.maxPauseMs.toFixed(1)} ms`,
        );
      }
    }
    const med = (name: string, key: keyof Row): number =>
      median(rows[name]!.map((r) => Number(r[key] ?? NaN)));
    const ratio = (name: string, ceiling: string): number =>
      median(rows[name]!.map((r, i) => r.rps / rows[ceiling]![i]!.rps));
    log('');
    log(`## Young-generation sizes (median of ${opts.runs} runs, ${opts.duration} s each)`);
    log(
      '| --max-semi-space-size | case | req/s | ratio | CPU µs/req | alloc KB/req | GC µs/req | GC % (major) | longest pause ms | pauses ≥ 5 ms/s | heap MB | new space MB |',
    );
    log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const { mb } of servers)
      for (const [label, name, ceiling] of [
        ['Profile', `profile${mb}`, 'ceilingProfile'],
        ['Candidates', `candidates${mb}`, 'ceilingCandidates'],
      ] as const)
        log(
          `| ${mb === '0' ? 'V8 default' : mb} | ${label} | ${Math.round(med(name, 'rps'))} | ${ratio(name, ceiling).toFixed(2)} | ${med(name, 'cpuUsPerReq').toFixed(0)} | ${med(name, 'allocKbPerReq').toFixed(1)} | ${med(name, 'gcUsPerReq').toFixed(1)} | ${med(name, 'gcPercent').toFixed(1)} (${med(name, 'majorGcPercent').toFixed(1)}) | ${med(name, 'maxPauseMs').toFixed(1)} | ${med(name, 'longPausesPerS').toFixed(1)} | ${med(name, 'heapMb').toFixed(0)} | ${med(name, 'newSpaceMb').toFixed(0)} |`,
        );
    log(
      `ceilings: Profile ${Math.round(med('ceilingProfile', 'rps'))} req/s (GC ${med('ceilingProfile', 'gcPercent').toFixed(1)}%), Candidates ${Math.round(med('ceilingCandidates', 'rps'))} req/s; load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}`,
    );
  } finally {
    for (const { server } of servers) await server.stop();
  }
}

async function main(): Promise<void> {
  log(`# Larder serving benchmark — ${new Date().toISOString()}`);
  log(
    `node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load generator on the same machine`,
  );
  log(`options: ${JSON.stringify(opts)}`);
  const loadavg = (): string =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ');
  log(`load average at start: ${loadavg()}`);
  mkdirSync(tmp, { recursive: true });
  await ensureBenchData(
    opts.data,
    { users: opts.users, articles: opts.articles, minRows: 50, maxRows: 100 },
    log,
  );

  const random = seededRandom(7);
  const hotUsers = Array.from({ length: opts.hotUsers }, () => 1 + Math.floor(random() * opts.users));
  const pool = Array.from({ length: opts.hotArticles }, () => 1 + Math.floor(random() * opts.articles));
  const profileBodies = hotUsers.map((id) =>
    JSON.stringify({ query: PROFILE, variables: { id: String(id) } }),
  );
  const candidateBodies = Array.from({ length: 500 }, () =>
    JSON.stringify({
      query: CANDIDATES,
      variables: { ids: Array.from({ length: 200 }, () => String(pool[Math.floor(random() * pool.length)])) },
    }),
  );
  const profileBodiesFile = path.join(tmp, 'profile-bodies.json');
  writeFileSync(profileBodiesFile, JSON.stringify(profileBodies));
  if (opts.semiSpace.length > 0) return semiSpaceSweep(profileBodies, candidateBodies);

  const w1 = await startLarder(1);
  const w2 = opts.workers2 ? await startLarder(2) : undefined;
  const off = opts.baseline ? await startLarder(1, { LARDER_HOT_ENTITY_TTL: '0s' }) : undefined;
  try {
    const profileSample = await sample(w1.port, profileBodies[0]!);
    const candidateSample = await sample(w1.port, candidateBodies[0]!);
    log(`profile answer: ${profileSample.text.length} bytes, ${profileSample.features} feature values`);
    log(
      `candidates answer: ${candidateSample.text.length} bytes, ${candidateSample.features} feature values`,
    );
    const profileFile = path.join(tmp, 'profile.json');
    const candidatesFile = path.join(tmp, 'candidates.json');
    writeFileSync(profileFile, profileSample.text);
    writeFileSync(candidatesFile, candidateSample.text);

    log('warming (every hot user and candidate set once, on each server)...');
    for (const server of [w1, w2, off]) {
      if (server === undefined) continue;
      await warm(server.port, profileBodies, 300_000);
      await warm(server.port, candidateBodies, 300_000);
    }

    const rows: Record<string, Row[]> = {};
    const add = (name: string, r: Row): Row => {
      (rows[name] ??= []).push(r);
      return r;
    };
    for (let run = 1; run <= opts.runs; run++) {
      const cp = await startCeiling(profileFile);
      const ceilingP = add('ceilingProfile', await saturate(cp, profileBodies));
      await cp.stop();
      const cc = await startCeiling(candidatesFile);
      add('ceilingCandidates', await saturate(cc, candidateBodies));
      await cc.stop();
      const profile = add('profile', await saturate(w1, profileBodies));
      add('candidates', await saturate(w1, candidateBodies));
      if (w2 !== undefined) {
        add('profileW2', await saturate(w2, profileBodies));
        add('candidatesW2', await saturate(w2, candidateBodies));
      }
      if (off !== undefined) {
        add('profileOff', await saturate(off, profileBodies));
        add('candidatesOff', await saturate(off, candidateBodies));
      }
      const half = Math.max(1, Math.round(profile.rps / 2));
      add('profileHalf', await paced(w1, profileBodiesFile, half));
      const ch = await startCeiling(profileFile);
      add('ceilingHalf', await paced(ch, profileBodiesFile, half));
      await ch.stop();
      log(
        `run ${run}/${opts.runs} (load ${loadavg()}): ceiling ${Math.round(ceilingP.rps)} req/s, profile ${Math.round(profile.rps)} (${(profile.rps / ceilingP.rps).toFixed(2)}, ${Math.round(profile.cpuUsPerReq)} µs CPU, ${profile.allocKbPerReq.toFixed(1)} KB alloc/req, GC ${profile.gcPercent.toFixed(1)}%, max pause ${profile.maxPauseMs.toFixed(1)} ms), candidates ${Math.round(rows['candidates']!.at(-1)!.rps)} (${(rows['candidates']!.at(-1)!.rps / rows['ceilingCandidates']!.at(-1)!.rps).toFixed(2)}), half-rate p99 ${rows['profileHalf']!.at(-1)!.p99} vs bare ${rows['ceilingHalf']!.at(-1)!.p99} ms`,
      );
    }

    // Ratios per run (same run), then the median of them.
    const ratio = (name: string, ceiling: string): number =>
      median(rows[name]!.map((r, i) => r.rps / rows[ceiling]![i]!.rps));
    const med = (name: string, key: keyof Row): number =>
      median(rows[name]!.map((r) => Number(r[key] ?? NaN)));
    log('');
    log(
      `## Results (median of ${opts.runs} runs, ${opts.duration} s each, ${opts.connections} connections; ratios are per run, then the median)`,
    );
    log(
      '| case | req/s | ratio to ceiling | p50 / p99 / p99.9 ms | feature values/s | server CPU µs/req | alloc KB/req | GC % of time | longest GC pause ms | GC pauses ≥ 5 ms per s | heap MB | errors |',
    );
    log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    const line = (label: string, name: string, ceiling: string, features: number): void => {
      const errors = rows[name]!.reduce((n, r) => n + r.errors, 0);
      const isServer = true;
      const fmt = (v: number, d = 0): string => (Number.isFinite(v) ? v.toFixed(d) : '-');
      log(
        `| ${label} | ${Math.round(med(name, 'rps'))} | ${ratio(name, ceiling).toFixed(2)} | ${med(name, 'p50')} / ${med(name, 'p99')} / ${med(name, 'p999')} | ${features === 0 ? '-' : Math.round(med(name, 'rps') * features)} | ${isServer ? fmt(med(name, 'cpuUsPerReq')) : '-'} | ${isServer ? fmt(med(name, 'allocKbPerReq'), 1) : '-'} | ${isServer ? fmt(med(name, 'gcPercent'), 1) : '-'} | ${isServer ? fmt(med(name, 'maxPauseMs'), 1) : '-'} | ${fmt(med(name, 'longPausesPerS'), 1)} | ${isServer ? fmt(med(name, 'heapMb')) : '-'} | ${errors} |`,
      );
    };
    line(`ceiling (bare route, ${profileSample.text.length} B)`, 'ceilingProfile', 'ceilingProfile', 0);
    line(
      `ceiling (bare route, ${candidateSample.text.length} B)`,
      'ceilingCandidates',
      'ceilingCandidates',
      0,
    );
    line('**Profile, default settings, 1 worker**', 'profile', 'ceilingProfile', profileSample.features);
    line(
      'Candidates (200 ids), default, 1 worker',
      'candidates',
      'ceilingCandidates',
      candidateSample.features,
    );
    if (off !== undefined) {
      line(
        'Profile, hot caches off (`LARDER_HOT_ENTITY_TTL=0s`, the old default)',
        'profileOff',
        'ceilingProfile',
        profileSample.features,
      );
      line('Candidates, hot caches off', 'candidatesOff', 'ceilingCandidates', candidateSample.features);
    }
    if (w2 !== undefined) {
      line('Profile, `--workers 2`', 'profileW2', 'ceilingProfile', profileSample.features);
      line('Candidates, `--workers 2`', 'candidatesW2', 'ceilingCandidates', candidateSample.features);
    }
    log('');
    for (const [label, name, ceiling] of [
      ['Profile', 'profile', 'ceilingProfile'],
      ['Candidates', 'candidates', 'ceilingCandidates'],
    ] as const) {
      log(
        `${label} per request against the bare route's (same bytes, same run): CPU ${med(name, 'cpuUsPerReq').toFixed(0)} vs ${med(ceiling, 'cpuUsPerReq').toFixed(0)} µs (×${(med(name, 'cpuUsPerReq') / med(ceiling, 'cpuUsPerReq')).toFixed(2)}), V8 allocation ${med(name, 'allocKbPerReq').toFixed(1)} vs ${med(ceiling, 'allocKbPerReq').toFixed(1)} KB (×${(med(name, 'allocKbPerReq') / med(ceiling, 'allocKbPerReq')).toFixed(2)})`,
      );
    }
    log('');
    const halfRate = Math.round(med('profile', 'rps') / 2);
    log(
      `Half of the saturated Profile rate (~${halfRate} req/s offered evenly, open loop, ${opts.generators} generator process(es), ${opts.rateConnections} connections in all):`,
    );
    log(
      '| case | p50 ms | p99 ms | p99.9 ms | achieved req/s | server CPU µs/req | generator CPU µs/req | GC % | longest pause ms | errors |',
    );
    log('|---|---|---|---|---|---|---|---|---|---|');
    for (const [label, name] of [
      ['Profile, default, 1 worker', 'profileHalf'],
      ['bare route, same rate', 'ceilingHalf'],
    ] as const) {
      const isServer = true;
      log(
        `| ${label} | ${med(name, 'p50')} | ${med(name, 'p99')} | ${med(name, 'p999')} | ${Math.round(med(name, 'rps'))} | ${isServer ? Math.round(med(name, 'cpuUsPerReq')) : '-'} | ${Math.round(med(name, 'generatorCpuUsPerReq'))} | ${isServer ? med(name, 'gcPercent').toFixed(1) : '-'} | ${isServer ? med(name, 'maxPauseMs').toFixed(1) : '-'} | ${rows[name]!.reduce((n, r) => n + r.errors, 0)} |`,
      );
    }
    const tail = (q: 'p99' | 'p999'): number =>
      median(rows['profileHalf']!.map((r, i) => r[q] / rows['ceilingHalf']![i]![q]));
    log('');
    log(`Load average at the end: ${loadavg()} (other processes share the cores)`);
    log('Targets (issue 15):');
    const t = (name: string, value: number, ok: boolean): void =>
      log(`- ${name}: ${value.toFixed(2)} ${ok ? 'MET' : 'not met'}`);
    t(
      'Profile default >= 0.40 of bare',
      ratio('profile', 'ceilingProfile'),
      ratio('profile', 'ceilingProfile') >= 0.4,
    );
    t(
      'Candidates >= 0.30 of bare',
      ratio('candidates', 'ceilingCandidates'),
      ratio('candidates', 'ceilingCandidates') >= 0.3,
    );
    const values = (med('candidates', 'rps') * candidateSample.features) / 1e6;
    t('Candidates >= 1.5M feature values/s (M)', values, values >= 1.5);
    t('GC < 5% of the Profile run (%)', med('profile', 'gcPercent'), med('profile', 'gcPercent') < 5);
    t('longest GC pause < 5 ms (ms)', med('profile', 'maxPauseMs'), med('profile', 'maxPauseMs') < 5);
    t('half-rate p99 <= 2x bare (x)', tail('p99'), tail('p99') <= 2);
    t('half-rate p99.9 <= 3x bare (x)', tail('p999'), tail('p999') <= 3);
    log(
      "Feature values = static values + action rows + joined static values in one answer. Saturated latencies are autocannon's (1 ms resolution); half-rate ones the paced generators'.",
    );
  } finally {
    await w1.stop();
    await w2?.stop();
    await off?.stop();
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
  for (const value of Object.values((data ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(value)) value.forEach(entity);
    else entity(value);
  }
  return n;
}

await main();
