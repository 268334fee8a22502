/**
 * How fast the paced open-loop generator itself can go: the bare route (server-process.ts
 * `ceiling`, answering a fixed ~7.9 KB body) under paced-process.ts at rising rates, with one and
 * with two generator processes. Where the bare route's own p99 climbs, the generator (and the
 * machine it shares), not the server under test, sets the tail:
 *
 *   node --import tsx bench/serve/paced-ceiling.ts [--rates 1000,2000,4000,8000] [--seconds 8]
 *
 * Uses the answer and request bodies the last `run.ts` left in the temp directory.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = path.join(os.tmpdir(), 'larder-bench-serve');
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const rates = arg('rates', '1000,2000,4000,8000').split(',').map(Number);
const seconds = Number(arg('seconds', '8'));
const answer = path.join(tmp, 'profile.json');
const bodies = path.join(tmp, 'profile-bodies.json');
if (!existsSync(answer) || !existsSync(bodies)) throw new Error('run bench/serve/run.ts once first');

interface Out {
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly errors: number;
  readonly latencies: number[];
  readonly generatorCpuUs: number;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
  });
}

const ceiling = spawn(
  process.execPath,
  ['--import', 'tsx', path.join(here, 'server-process.ts'), 'ceiling', answer],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const port = await new Promise<number>((resolve) => {
  let out = '';
  ceiling.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const m = /READY (\d+)/.exec(out);
    if (m !== null) resolve(Number(m[1]));
  });
});
process.stdout.write(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}\n`,
);
process.stdout.write(
  '| offered req/s | generators | achieved req/s | p50 ms | p99 ms | p99.9 ms | generator CPU µs/req | errors |\n|---|---|---|---|---|---|---|---|\n',
);
try {
  for (const rate of rates) {
    for (const g of [1, 2]) {
      const outs = await Promise.all(
        Array.from({ length: g }, () =>
          run([
            path.join(here, 'paced-process.ts'),
            `http://127.0.0.1:${port}/graphql`,
            bodies,
            String(rate / g),
            String(seconds),
            String(32 / g),
            '3',
          ]).then((text) => JSON.parse(text.slice(text.indexOf('\n') + 1)) as Out),
        ),
      );
      const all = outs.flatMap((o) => o.latencies).sort((a, b) => a - b);
      const at = (q: number): string =>
        (all[Math.min(all.length - 1, Math.floor(q * all.length))] ?? NaN).toFixed(1);
      process.stdout.write(
        `| ${rate} | ${g} | ${Math.round(outs.reduce((n, o) => n + o.rate, 0))} | ${at(0.5)} | ${at(0.99)} | ${at(0.999)} | ${Math.round(outs.reduce((n, o) => n + o.generatorCpuUs, 0) / g)} | ${outs.reduce((n, o) => n + o.errors, 0)} |\n`,
      );
    }
  }
} finally {
  ceiling.kill('SIGTERM');
}
