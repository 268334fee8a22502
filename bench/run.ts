/**
 * `npm run bench` lists the benchmarks; `npm run bench -- <name> [options]` runs one, passing the
 * options on. Each benchmark prints its figures as ratios against a ceiling measured in the same
 * run (see BENCHMARKS.md for the recorded figures and the command behind each).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Benchmark {
  readonly name: string;
  readonly file: string;
  readonly measures: string;
  readonly needs: string;
}

const BENCHMARKS: readonly Benchmark[] = [
  {
    name: 'read-path',
    file: 'read-path/throughput.ts',
    measures: 'profile reads through the layered store vs raw pipelined Redis',
    needs: 'Redis (or --own-redis)',
  },
  {
    name: 'hit-ratio',
    file: 'read-path/hit-ratio.ts',
    measures: 'hit ratio per cache level under Zipf popularity, per admission policy',
    needs: 'Redis (or --own-redis)',
  },
  {
    name: 'ingest',
    file: 'ingest/redis-ingest.ts',
    measures: 'Redis Streams -> LMDB consumer vs sequential consumer and raw read+ack',
    needs: 'Redis',
  },
  {
    name: 'store-path',
    file: 'ingest/store-path.ts',
    measures: 'the ingestor into durable LMDB alone, CPU per event',
    needs: 'nothing',
  },
  {
    name: 'serve',
    file: 'serve/run.ts',
    measures: 'GraphQL/REST throughput and paced latency vs a bare Fastify route',
    needs: 'nothing (writes its data set on the first run)',
  },
  {
    name: 'serve-cpu',
    file: 'serve/cpu-per-request.ts',
    measures: 'CPU microseconds per request of the serving path, no sockets',
    needs: 'nothing',
  },
  {
    name: 'soak',
    file: 'soak/run.ts',
    measures: 'a real server under mixed push, stream, read and reload traffic: RSS, errors, row check',
    needs: 'Redis (not in CI; default 10 minutes, --minutes N)',
  },
  {
    name: 'backfill',
    file: 'backfill/run.ts',
    measures: 'larder backfill rows/s from JSONL and Parquet vs raw batched LMDB writes',
    needs: 'nothing',
  },
  {
    name: 'enrich',
    file: 'enrich/run.ts',
    measures: 'enrichment workers: invocations/s vs raw queue put+take, trigger -> visible feature latency',
    needs: 'nothing (--engine bullmq|both: Redis)',
  },
  {
    name: 'vectors',
    file: 'vectors/run.ts',
    measures:
      'vector(384) vs a 10-int row in LMDB and through the server, rankBy on 200/2,000 candidates, vs raw lmdb-js gets',
    needs: 'nothing',
  },
  {
    name: 'store-lmdb',
    file: 'store-lmdb.ts',
    measures: 'LmdbStore appends, range reads and static gets vs raw lmdb-js',
    needs: 'nothing',
  },
];

function list(): void {
  console.log('Benchmarks (npm run bench -- <name> [options]):\n');
  const width = Math.max(...BENCHMARKS.map((b) => b.name.length));
  for (const b of BENCHMARKS) {
    console.log(`  ${b.name.padEnd(width)}  bench/${b.file}`);
    console.log(`  ${' '.repeat(width)}  ${b.measures}; needs ${b.needs}`);
  }
}

const [name, ...options] = process.argv.slice(2);
const chosen = BENCHMARKS.find((b) => b.name === name);
if (name === undefined || name === '--help' || name === '-h') {
  list();
} else if (chosen === undefined) {
  console.error(`unknown benchmark "${name}"\n`);
  list();
  process.exitCode = 2;
} else {
  const file = fileURLToPath(new URL(chosen.file, import.meta.url));
  if (!existsSync(file)) throw new Error(`bench/${chosen.file} is listed but missing`);
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...options], { stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal === null ? 1 : 128);
  });
}
