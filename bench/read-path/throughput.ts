/**
 * Read-path throughput: a profile read (3 static groups + 2 action groups, count = 50) with warm
 * levels, through the layered store, against a ceiling measured in the same run: the same Redis
 * commands for the same keys, pipelined raw with ioredis (one MGET + two ZREVRANGEBYSCORE LIMIT
 * per read, no decoding).
 *
 *   node --import tsx bench/read-path/throughput.ts [--users 2000] [--runs 5] [--own-redis] [--seconds 3] [--in-flight 32]
 *
 * Configurations, each run interleaved so they share the machine's conditions:
 * - ceiling:      raw pipelined Redis commands
 * - redis:        layered store, Redis level only (decode included)
 * - local+redis:  layered store, in-process level in front (warm: every read a local hit)
 * - store:        LMDB directly, no cache (reference)
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { dataKey } from '../../src/cache/redis-codec.ts';
import { cacheRig, openBenchStore, useOwnRedis, REDIS_URL } from './bench-rig.ts';
import { median, runLoad, type LoadResult } from './load-loop.ts';
import { ACTION_GROUPS, COUNT, populate, readProfile, STATIC_GROUPS, userKey } from './profile-fixture.ts';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '2000' },
    'own-redis': { type: 'boolean', default: false },
    runs: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    'in-flight': { type: 'string', default: '32' },
  },
});
const USERS = Number(args.users);
const RUNS = Number(args.runs);
const DURATION_MS = Number(args.seconds) * 1000;
const IN_FLIGHT = Number(args['in-flight']);

const stopRedis = args['own-redis'] ? await useOwnRedis() : undefined;
const { store, remove } = openBenchStore();
await store.open();
const now = Date.now();
process.stderr.write(`populating ${USERS} users...\n`);
await populate(store, USERS, now);

const redisOnly = await cacheRig(store, { redis: true });
const localRedis = await cacheRig(store, {
  redis: true,
  local: { maxBytes: 256 * 1024 ** 2, admission: 'always' },
});
const user = (i: number) => (i * 7919) % USERS;

// Warm every level: read each profile twice, then wait for the back-fills.
for (const rig of [redisOnly, localRedis]) {
  for (let pass = 0; pass < 2; pass++) {
    for (let u = 0; u < USERS; u += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, USERS - u) }, (_, k) => readProfile(rig.layered, u + k)),
      );
    }
    await rig.layered.idle();
  }
  rig.metrics.reset();
}

const raw = new Redis(REDIS_URL);
const keysOf = (u: number) => ({
  statics: STATIC_GROUPS.map((g) => dataKey(redisOnly.namespace, userKey(u, g))),
  ranges: ACTION_GROUPS.map((g) => dataKey(redisOnly.namespace, userKey(u, g))),
});
const ceilingRead = async (i: number) => {
  const k = keysOf(user(i));
  const p = raw.pipeline();
  p.mgetBuffer(k.statics);
  for (const key of k.ranges)
    p.zrevrangebyscoreBuffer(key, '+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, COUNT + 1);
  const replies = await p.exec();
  if (replies === null || replies.some(([err]) => err !== null)) throw new Error('ceiling read failed');
};

// Sanity: every configuration answers the same profile.
const expected = JSON.stringify(await readProfile(store, 7));
for (const rig of [redisOnly, localRedis]) {
  if (JSON.stringify(await readProfile(rig.layered, 7)) !== expected)
    throw new Error('layered read differs from store');
}

const configs: [string, (i: number) => Promise<unknown>][] = [
  ['ceiling (raw Redis pipeline)', ceilingRead],
  ['layered: redis', (i) => readProfile(redisOnly.layered, user(i))],
  ['layered: local+redis', (i) => readProfile(localRedis.layered, user(i))],
  ['store only (LMDB)', (i) => readProfile(store, user(i))],
];
const results = new Map<string, LoadResult[]>(configs.map(([name]) => [name, []]));
for (let run = 0; run < RUNS; run++) {
  for (const [name, op] of configs) {
    const r = await runLoad(op, { inFlight: IN_FLIGHT, durationMs: DURATION_MS, warmupMs: 300 });
    results.get(name)?.push(r);
    process.stderr.write(
      `run ${run + 1}/${RUNS} ${name}: ${Math.round(r.opsPerSec)}/s p99 ${r.p99Ms.toFixed(2)} ms\n`,
    );
  }
}

const ceiling = median((results.get(configs[0]?.[0] as string) ?? []).map((r) => r.opsPerSec));
console.log(
  `\nprofile read (3 static + 2 action groups, count ${COUNT}), ${USERS} users, ${IN_FLIGHT} in flight, ` +
    `median of ${RUNS} runs x ${DURATION_MS / 1000}s`,
);
console.log('| configuration | reads/s | p50 ms | p99 ms | vs ceiling |');
console.log('|---|---:|---:|---:|---:|');
for (const [name] of configs) {
  const rs = results.get(name) ?? [];
  const ops = median(rs.map((r) => r.opsPerSec));
  console.log(
    `| ${name} | ${Math.round(ops)} | ${median(rs.map((r) => r.p50Ms)).toFixed(2)} | ` +
      `${median(rs.map((r) => r.p99Ms)).toFixed(2)} | ${(ops / ceiling).toFixed(2)} |`,
  );
}
const l = localRedis.metrics;
console.log(
  `\nhit ratio during the measured runs: local+redis config: local ${l.hitRatio('local').toFixed(3)}; ` +
    `redis config: redis ${redisOnly.metrics.hitRatio('redis').toFixed(3)}`,
);

await raw.quit();
await redisOnly.close();
await localRedis.close();
await remove();
stopRedis?.();
