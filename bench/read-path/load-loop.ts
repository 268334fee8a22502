/** A closed-loop load generator: `inFlight` workers each run `op` back to back for `durationMs`. */
export interface LoadResult {
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function runLoad(
  op: (i: number) => Promise<unknown>,
  options: { inFlight: number; durationMs: number; warmupMs?: number },
): Promise<LoadResult> {
  if ((options.warmupMs ?? 0) > 0) await loop(op, options.inFlight, options.warmupMs ?? 0, undefined);
  const latencies: number[] = [];
  const started = performance.now();
  const ops = await loop(op, options.inFlight, options.durationMs, latencies);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { opsPerSec: ops / elapsed, p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function loop(
  op: (i: number) => Promise<unknown>,
  inFlight: number,
  durationMs: number,
  latencies: number[] | undefined,
): Promise<number> {
  const end = performance.now() + durationMs;
  let count = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await op(count++);
      latencies?.push(performance.now() - t);
      // Local hits resolve without I/O; let timers and sockets run between operations.
      if (count % 64 === 0) await new Promise((r) => setImmediate(r));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return count;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
