/**
 * An open-loop load generator for latency at a fixed rate: requests leave evenly spaced (one
 * every 1/rate s, whatever the answers do), over a pool of keep-alive connections, and each
 * latency counts from the moment its request was due. So a server that stalls is charged for
 * every request that waited behind the stall (no coordinated omission).
 *
 * Why not autocannon here: its fixed-rate mode lets each connection send its whole per-second
 * quota back to back at the start of every second, then pause; the bursts, not the server, set
 * the tail. autocannon still measures every throughput figure of the benchmark.
 */
import { Pool } from 'undici';

export interface PacedResult {
  readonly sent: number;
  readonly rate: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly errors: number;
  /** Every latency, ms (ascending), when asked for (`keepLatencies`). */
  readonly latencies?: readonly number[];
}

export async function pacedLoad(options: {
  readonly url: string;
  readonly bodies: readonly string[];
  readonly rate: number;
  readonly seconds: number;
  readonly connections?: number;
  /** Return every latency too (to merge the percentiles of several generators). */
  readonly keepLatencies?: boolean;
}): Promise<PacedResult> {
  const origin = new URL(options.url);
  const pool = new Pool(origin.origin, { connections: options.connections ?? 32, pipelining: 1 });
  const total = Math.max(1, Math.round(options.rate * options.seconds));
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  let failed = 0; // no answer (network error)
  let non200 = 0;
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  const send = (due: number, body: string): void => {
    const request = pool
      .request({
        path: origin.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      .then(async (res) => {
        await res.body.arrayBuffer();
        if (res.statusCode !== 200) non200++;
        latencies.push(performance.now() - due);
      })
      .catch(() => void failed++);
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  };
  // Each tick sends every request that has come due, so a late timer never lowers the rate.
  while (sent < total) {
    const now = performance.now();
    while (sent < total && start + sent * interval <= now) {
      send(start + sent * interval, options.bodies[sent % options.bodies.length]!);
      sent++;
    }
    const next = start + sent * interval - performance.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(next, 5))));
  }
  // Bounded: requests still out after 10 s count as errors.
  await Promise.race([Promise.all(inFlight), new Promise((resolve) => setTimeout(resolve, 10_000))]);
  const unanswered = total - latencies.length - failed;
  await pool.close();
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const elapsed = (performance.now() - start) / 1000;
  return {
    sent: total,
    rate: latencies.length / elapsed,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted.at(-1) ?? Number.NaN,
    errors: failed + non200 + unanswered,
    ...(options.keepLatencies === true ? { latencies: sorted.map((v) => Math.round(v * 1000) / 1000) } : {}),
  };
}
