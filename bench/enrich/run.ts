/**
 * Enrichment workers: invocations/s through a no-op `module` handler, as a ratio to a ceiling of
 * raw queue operations on the same engine in the same run, and the latency from a trigger event to
 * the enriched feature being readable in the store.
 *
 *   npm run bench -- enrich [--invocations 20000] [--runs 3] [--engine lmdb|bullmq|both]
 *                           [--concurrency 64] [--events 1000] [--rate 200]
 *
 * - ceiling: `put` every invocation (batches of 500), then `take` and `succeed` them with
 *   `--concurrency` takers, on the bare queue: what any worker must at least do per invocation.
 * - workers: the same invocations through the real worker (the runtime of `larder serve`): take
 *   for free slots, call the no-op handler in the module thread pool, publish the onSuccess event
 *   through the ingestor (to a topic no feature reads, so the store costs nothing here), succeed.
 *   Concurrency is fixed at `--concurrency` (min = max), so autoscaling is not measured.
 * - latency (LMDB only): after 50 warm-up events, `--events` trigger events pushed one at a time at `--rate` a second
 *   through the write path (as an HTTP push would); each one's enriched value is polled in the
 *   store (every millisecond) until it is readable. p50 and p99.
 *
 * Both sides write durably (the runtime's LMDB always does). Medians over `--runs`. BullMQ needs Redis on 127.0.0.1:6379 (random key prefix, removed after).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../../src/config/load-config.ts';
import type { InvocationQueue } from '../../src/enrich/invocation-queue.ts';
import { openInvocationQueue } from '../../src/enrich/open-invocation-queue.ts';
import { partitionKey } from '../../src/keys/keys.ts';
import { openRuntime, type Runtime } from '../../src/runtime/open-runtime.ts';
import { openLmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';

const { values: args } = parseArgs({
  options: {
    invocations: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
    engine: { type: 'string', default: 'lmdb' },
    concurrency: { type: 'string', default: '64' },
    events: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '200' },
  },
});
const N = Number(args.invocations);
const RUNS = Number(args.runs);
const CONCURRENCY = Number(args.concurrency);
const EVENTS = Number(args.events);
const RATE = Number(args.rate);
const engines = args.engine === 'both' ? (['lmdb', 'bullmq'] as const) : [args.engine as 'lmdb' | 'bullmq'];
const REDIS_URL = 'redis://127.0.0.1:6379';
const silent = pino({ level: 'silent' });

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (xs: readonly number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** A registry dir: `noop` (no trigger, results to a topic nothing reads) and `tagger` (trigger -> feature). */
function writeRegistry(dir: string): void {
  mkdirSync(path.join(dir, 'handlers'), { recursive: true });
  writeFileSync(path.join(dir, 'handlers', 'noop.mjs'), 'export default async () => ({});\n');
  writeFileSync(
    path.join(dir, 'handlers', 'tag.mjs'),
    'export default async (input) => ({ tag: `t${input.article_id}` });\n',
  );
  writeFileSync(
    path.join(dir, 'registry.yaml'),
    [
      'entities: {article: {idType: int, idField: article_id}}',
      'streams: {events: {source: http, subTopicField: type, eventIdField: event_id}}',
      'enrichers:',
      '  noop:',
      '    handler: {module: ./handlers/noop.mjs}',
      `    concurrency: {min: ${CONCURRENCY}, max: ${CONCURRENCY}}`,
      '    onSuccess: {streamName: results, topic: ignored}',
      '  tagger:',
      '    trigger: {streamName: events, topic: articles, subTopic: created}',
      '    input: {article_id: article_id}',
      '    handler: {module: ./handlers/tag.mjs}',
      '    concurrency: {min: 8, max: 8}',
      '    onSuccess: {streamName: results, topic: tags}',
      'features:',
      '  article:',
      '    title: {events: [{streamName: events, topic: articles, fields: [{name: title, type: string}]}]}',
      '    tag: {events: [{streamName: results, topic: tags, fields: [{name: result.tag, rename: tag, type: string}]}]}',
      '',
    ].join('\n'),
  );
}

function writeConfig(file: string, engine: 'lmdb' | 'bullmq', prefix: string): void {
  writeFileSync(
    file,
    [
      'cache: {}', // reads go to the store itself: "visible" means readable there
      'enrich:',
      ...(engine === 'bullmq' ? ['  mode: distributed', `  prefix: ${prefix}`] : []),
      '  pollInterval: 5ms',
      '  threads: 2',
      '',
    ].join('\n'),
  );
}

async function putAll(queue: InvocationQueue, enricher: string, tag: string): Promise<void> {
  for (let i = 0; i < N; i += 500) {
    await queue.put(
      enricher,
      Array.from({ length: Math.min(500, N - i) }, (_, k) => ({
        id: `${tag}-${i + k}`,
        input: { n: i + k },
      })),
    );
  }
}

/** Ceiling: bare put, then take + succeed with CONCURRENCY takers. Invocations/s over both phases. */
async function ceiling(queue: InvocationQueue, tag: string): Promise<number> {
  const enricher = `ceiling_${tag}`;
  const start = performance.now();
  await putAll(queue, enricher, tag);
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, CONCURRENCY / 16) }, async () => {
      for (;;) {
        const claims = await queue.take(enricher, 16, 60_000);
        if (claims.length === 0) return;
        await Promise.all(claims.map((c) => queue.succeed(enricher, c, {})));
        done += claims.length;
      }
    }),
  );
  if (done !== N) throw new Error(`ceiling took ${done} of ${N}`);
  return N / ((performance.now() - start) / 1000);
}

/** Workers: put, then the real workers drain the queue. Invocations/s over both phases. */
async function throughWorkers(runtime: Runtime, tag: string): Promise<number> {
  const start = performance.now();
  await putAll(runtime.queue, 'noop', tag);
  const workers = await runtime.startEnrichWorkers();
  for (;;) {
    const counts = await runtime.queue.counts('noop');
    if (counts.succeeded + counts.dead >= N) {
      if (counts.dead > 0) throw new Error(`${counts.dead} invocations died`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const rate = N / ((performance.now() - start) / 1000);
  await workers.stop();
  return rate;
}

/** Trigger event pushed -> enriched feature readable in the store, ms per event. */
async function latencies(runtime: Runtime): Promise<number[]> {
  await runtime.startEnrichWorkers();
  const entity = runtime.ctx.registry.current.entities.get('article')!;
  const pending = new Map<string, number>();
  const out: number[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling || pending.size > 0) {
      const pks = [...pending.keys()];
      if (pks.length > 0) {
        const values = await runtime.ctx.store.getStatic(pks);
        const now = performance.now();
        values.forEach((value, i) => {
          if (value === undefined) return;
          out.push(now - pending.get(pks[i]!)!);
          pending.delete(pks[i]!);
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  })();
  // Warm-up (threads booted, module loaded, first commits done): sent and waited for, not measured.
  const push = (id: number) =>
    runtime.ingestor.ingest([
      {
        stream: 'events',
        topic: 'articles',
        body: { type: 'created', article_id: id, event_id: `e${id}`, title: 'x' },
        receivedAt: Date.now(),
      },
    ]);
  for (let id = 0; id < 50; id++) await push(id);
  for (;;) {
    const warm = await runtime.ctx.store.getStatic([partitionKey(entity, '49', 'tag')]);
    if (warm[0] !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const gap = 1000 / RATE;
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    const wait = t0 + i * gap - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const id = 1_000_000 + i;
    pending.set(partitionKey(entity, String(id), 'tag'), performance.now());
    await push(id);
  }
  polling = false;
  await poller;
  return out;
}

async function cleanRedis(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  redis.disconnect();
}

console.log(
  `enrich bench: ${N} invocations, concurrency ${CONCURRENCY}, ${RUNS} runs, durable LMDB; ` +
    `latency: ${EVENTS} events at ${RATE}/s`,
);
for (const engine of engines) {
  const ceilings: number[] = [];
  const workers: number[] = [];
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'larder-bench-enrich-'));
    const prefix = `larder-bench-${randomUUID().slice(0, 8)}`;
    try {
      const registryDir = path.join(dir, 'registry');
      writeRegistry(registryDir);
      const configFile = path.join(dir, 'larder.yaml');
      writeConfig(configFile, engine, prefix);
      const config = loadConfig(configFile);

      // Ceiling on a queue of its own (same engine, same data directory kind).
      const env = openLmdbEnv(path.join(dir, 'ceiling'));
      const queue = await openInvocationQueue(config.enrich, env);
      ceilings.push(await ceiling(queue, `r${run}`));
      await queue.close();
      await env.close();

      const runtime = await openRuntime({
        registryDir,
        dataDir: path.join(dir, 'data'),
        config,
        logger: silent,
        watch: false,
      });
      try {
        workers.push(await throughWorkers(runtime, `r${run}`));
      } finally {
        await runtime.close();
      }
      if (engine === 'lmdb') {
        const second = await openRuntime({
          registryDir,
          dataDir: path.join(dir, 'latency'),
          config,
          logger: silent,
          watch: false,
        });
        try {
          const ms = await latencies(second);
          p50s.push(quantile(ms, 0.5));
          p99s.push(quantile(ms, 0.99));
        } finally {
          await second.close();
        }
      }
      const last = (xs: number[]) => xs.at(-1)?.toFixed(0) ?? '-';
      console.log(
        `  ${engine} run ${run + 1}: ceiling ${last(ceilings)}/s, workers ${last(workers)}/s` +
          (engine === 'lmdb'
            ? `, latency p50 ${p50s.at(-1)?.toFixed(1)} ms p99 ${p99s.at(-1)?.toFixed(1)} ms`
            : ''),
      );
    } finally {
      if (engine === 'bullmq') await cleanRedis(prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const c = median(ceilings);
  const w = median(workers);
  console.log(`${engine}: ceiling (put + take + succeed) ${c.toFixed(0)} invocations/s`);
  // Each run's own ratio, workers to the ceiling measured just before them: the load moves both.
  const ratios = workers.map((x, i) => x / ceilings[i]!);
  console.log(
    `${engine}: workers, no-op module handler  ${w.toFixed(0)} invocations/s   ratio ${(w / c).toFixed(2)}` +
      ` (median of per-run ratios ${median(ratios).toFixed(2)})`,
  );
  if (p50s.length > 0) {
    console.log(
      `${engine}: trigger -> visible feature    p50 ${median(p50s).toFixed(1)} ms   p99 ${median(p99s).toFixed(1)} ms`,
    );
  }
}
process.exit(0);
