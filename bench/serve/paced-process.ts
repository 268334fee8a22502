/**
 * One paced open-loop load generator (paced-load.ts) in its own process, so that the benchmark
 * can run it apart from its own event loop, or as several processes each sending a share of the
 * rate (`--generators` in run.ts):
 *
 *   node --import tsx bench/serve/paced-process.ts <url> <bodiesFile> <rate> <seconds> <connections> [warmSeconds]
 *
 * `bodiesFile` holds a JSON array of request bodies. Prints `MEASURING` when the warm-up is over,
 * then one JSON line: the `PacedResult` and every latency (ms), so that the caller can merge
 * several generators' percentiles.
 */
import { readFileSync } from 'node:fs';
import { pacedLoad } from './paced-load.ts';

const [url, bodiesFile, rate, seconds, connections, warmSeconds] = process.argv.slice(2);
if (url === undefined || bodiesFile === undefined || rate === undefined || seconds === undefined) {
  process.stderr.write('usage: paced-process.ts <url> <bodiesFile> <rate> <seconds> <connections> [warm]\n');
  process.exit(2);
}
const bodies = JSON.parse(readFileSync(bodiesFile, 'utf8')) as string[];
const common = { url, bodies, rate: Number(rate), connections: Number(connections ?? 32) };
// Unmeasured first: connections open and both sides settle into the paced rhythm.
if (Number(warmSeconds ?? 0) > 0) await pacedLoad({ ...common, seconds: Number(warmSeconds) });
// The caller starts its measurement window (server CPU, GC) at this line.
process.stdout.write('MEASURING\n');
const cpuBefore = process.cpuUsage();
const result = await pacedLoad({ ...common, seconds: Number(seconds), keepLatencies: true });
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  `${JSON.stringify({ ...result, generatorCpuUs: (cpu.user + cpu.system) / Math.max(1, result.sent) })}\n`,
);
