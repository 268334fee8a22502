/**
 * The server side of the serving benchmark, run as its own process so the load generator never
 * shares its event loop:
 *
 *   node --import tsx bench/serve/server-process.ts larder <registryDir> <dataDir> [workers]
 *   node --import tsx bench/serve/server-process.ts ceiling <responseFile>
 *
 * `larder`: the real server (createServer) over the embedded LMDB store behind the in-process
 * cache level, auth off, default limits. `ceiling`: a bare Fastify route answering every POST
 * with the same precomputed bytes. Both listen on 127.0.0.1 on a free port and print
 * `READY <port>` once listening.
 */
import cluster from 'node:cluster';
import { readFileSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Fastify from 'fastify';
import { pino } from 'pino';
import { createLayeredStore } from '../../src/cache/layered-store.ts';
import { LocalCacheLevel } from '../../src/cache/local-level.ts';
import type { DeadLetter, DeadLetterStore } from '../../src/store/dead-letters.ts';
import { createServer } from '../../src/serve/server.ts';
import { DEFAULT_SERVE_LIMITS } from '../../src/serve/limits.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';

const [mode, arg1, arg2] = process.argv.slice(2);
// Exit normally on SIGTERM, so `--cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));

async function listen(app: {
  listen(o: { port: number; host: string }): Promise<string>;
  server: { address(): unknown };
}): Promise<void> {
  await app.listen({ port: Number(process.env['BENCH_PORT'] ?? 0), host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  process.stdout.write(`READY ${address.port}\n`);
}

async function ceiling(responseFile: string): Promise<void> {
  const body = readFileSync(responseFile);
  const app = Fastify({ logger: false });
  app.post('/graphql', (_request, reply) => {
    void reply.header('content-type', 'application/json; charset=utf-8').send(body);
  });
  await listen(app);
}

async function larder(registryDir: string, dataDir: string): Promise<void> {
  const logger = pino({ level: 'warn' });
  const registry = new RegistryHolder(await loadRegistry(registryDir));
  const store = new LmdbStore(dataDir, { env: { sync: false, mapSize: 32 * 2 ** 30 } });
  const local = new LocalCacheLevel({
    maxBytes: Number(process.env['BENCH_CACHE_BYTES'] ?? 2 * 2 ** 30),
    admission: 'always',
  });
  const layered = createLayeredStore({ store, registry, local });
  await layered.open();
  const deadLetters: DeadLetterStore = {
    add: async () => [] as DeadLetter[],
    list: async () => [],
    get: async () => undefined,
    remove: async () => 0,
    count: async () => 0,
  };
  const app = await createServer(
    {
      registry,
      store: layered,
      deadLetters,
      logger,
      ingest: async () => ({ accepted: 0, filtered: 0, rejected: 0, rejections: [] }) as never,
    },
    {
      logger,
      auth: { enabled: false, readKeys: [], ingestKeys: [], adminKeys: [], publicMetrics: true },
      limits: DEFAULT_SERVE_LIMITS,
      hotEntityTtlMs: Number(process.env['BENCH_HOT_TTL_MS'] ?? 30_000),
    },
  );
  // The benchmark reads the cache hit ratios from here.
  app.get('/bench/cache', async () => Object.fromEntries(layered.metrics.totals));
  // Event-loop stalls, to tell server pauses from load-generator noise.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  // CPU profile of a window (for optimising the hot path without the warm-up in it).
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) =>
      session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    );
  app.post('/bench/profile/start', async () => {
    await post('Profiler.enable');
    await post('Profiler.start');
    return { ok: true };
  });
  app.post('/bench/profile/stop', async () => {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(process.env['BENCH_PROFILE_FILE'] ?? 'serve.cpuprofile', JSON.stringify(profile));
    return { ok: true };
  });
  // Allocation sampling of a window (what each request allocates feeds the young-generation GC).
  app.post('/bench/allocations/start', async () => {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMinorGC: true,
      includeObjectsCollectedByMajorGC: true,
    });
    return { ok: true };
  });
  app.post('/bench/allocations/stop', async () => {
    const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
    writeFileSync(process.env['BENCH_ALLOCATIONS_FILE'] ?? 'serve.heapprofile', JSON.stringify(profile));
    return { ok: true };
  });
  app.get('/bench/loop', async () => {
    const out = { p99ms: loop.percentile(99) / 1e6, maxMs: loop.max / 1e6, meanMs: loop.mean / 1e6 };
    loop.reset();
    return out;
  });
  await listen(app);
}

if (mode === 'ceiling' && arg1 !== undefined) await ceiling(arg1);
else if (mode === 'larder' && arg1 !== undefined && arg2 !== undefined) {
  const workers = Number(process.argv[5] ?? 1);
  if (workers > 1 && cluster.isPrimary) {
    for (let i = 0; i < workers; i++) cluster.fork();
  } else await larder(arg1, arg2);
} else {
  process.stderr.write(
    'usage: server-process.ts larder <registryDir> <dataDir> [workers] | ceiling <responseFile>\n',
  );
  process.exit(2);
}
