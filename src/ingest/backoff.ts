/**
 * How long to wait before trying again after `failures` consecutive failures: `baseMs · 2^failures`,
 * at most `capMs`. The broker calls of the stream consumer and the retried tasks of a batch job
 * back off by this one rule; only their base differs.
 */
export function backoffMs(failures: number, baseMs: number, capMs = 5_000): number {
  // The exponent is bounded so that a long outage never multiplies by 2^1000.
  return Math.min(capMs, baseMs * 2 ** Math.min(Math.max(failures, 0), 30));
}
