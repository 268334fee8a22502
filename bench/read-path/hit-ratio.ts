/**
 * Hit ratio per level, with and without the local level's admission policy, under a skewed
 * (Zipf) popularity of users, starting cold. The local level is deliberately small next to the
 * working set, which is where admission matters: without it, users read once push hot ones out.
 *
 *   node --import tsx bench/read-path/hit-ratio.ts [--users 5000] [--reads 60000] [--local-mb 8] [--zipf 1.0] [--runs 3] [--own-redis]
 *
 * Per level: hits / lookups at that level. "store" is the share of all key lookups that reached
 * the store.
 */
import { parseArgs } from 'node:util';
import { cacheRig, openBenchStore, useOwnRedis } from './bench-rig.ts';
import { median } from './load-loop.ts';
import { ACTION_GROUPS, populate, readProfile, STATIC_GROUPS } from './profile-fixture.ts';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '5000' },
    reads: { type: 'string', default: '60000' },
    'local-mb': { type: 'string', default: '8' },
    zipf: { type: 'string', default: '1.0' },
    'own-redis': { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
  },
});
const USERS = Number(args.users);
const READS = Number(args.reads);
const LOCAL_BYTES = Number(args['local-mb']) * 1024 ** 2;
const S = Number(args.zipf);
const RUNS = Number(args.runs);
const KEYS_PER_READ = STATIC_GROUPS.length + ACTION_GROUPS.length;

/** Zipf(s) over 0..n-1 by inverse CDF, with a seeded generator so both policies see one sequence. */
function zipfSequence(n: number, s: number, length: number, seed: number): Int32Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  let state = seed;
  const out = new Int32Array(length);
  for (let k = 0; k < length; k++) {
    state = (state * 48271) % 2147483647;
    const target = (state / 2147483647) * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    // Scatter ranks over user ids so popularity is not tied to key order.
    out[k] = (lo * 7919) % n;
  }
  return out;
}

const stopRedis = args['own-redis'] ? await useOwnRedis() : undefined;
const { store, remove } = openBenchStore();
await store.open();
process.stderr.write(`populating ${USERS} users...\n`);
await populate(store, USERS, Date.now());

type Row = { local: number; redis: number; store: number; localMb: number };
const results = new Map<string, Row[]>([
  ['always', []],
  ['second-read', []],
]);
for (let run = 0; run < RUNS; run++) {
  const sequence = zipfSequence(USERS, S, READS, 12345 + run);
  for (const admission of ['always', 'second-read'] as const) {
    const rig = await cacheRig(store, { redis: true, local: { maxBytes: LOCAL_BYTES, admission } });
    // 16 reads in flight, in sequence order.
    let next = 0;
    const worker = async () => {
      while (next < READS) await readProfile(rig.layered, sequence[next++] as number);
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await rig.layered.idle();
    const m = rig.metrics;
    results.get(admission)?.push({
      local: m.hitRatio('local'),
      redis: m.hitRatio('redis'),
      store: m.level('store').hits / (READS * KEYS_PER_READ),
      localMb: (rig.local?.stats().bytes ?? 0) / 1024 ** 2,
    });
    process.stderr.write(
      `run ${run + 1}/${RUNS} admission=${admission}: local ${m.hitRatio('local').toFixed(3)} redis ${m
        .hitRatio('redis')
        .toFixed(3)}\n`,
    );
    await rig.close();
  }
}

console.log(
  `\nhit ratio per level: ${USERS} users, Zipf s=${S}, ${READS} profile reads from cold, ` +
    `local level ${LOCAL_BYTES / 1024 ** 2} MB, median of ${RUNS} runs`,
);
console.log('| admission | local hit ratio | redis hit ratio | reached the store | local MB used |');
console.log('|---|---:|---:|---:|---:|');
for (const [admission, rows] of results) {
  console.log(
    `| ${admission} | ${median(rows.map((r) => r.local)).toFixed(3)} | ${median(rows.map((r) => r.redis)).toFixed(3)} | ` +
      `${median(rows.map((r) => r.store)).toFixed(3)} | ${median(rows.map((r) => r.localMb)).toFixed(1)} |`,
  );
}
await remove();
stopRedis?.();
