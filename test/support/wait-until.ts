import { setTimeout as sleep } from 'node:timers/promises';

/** What a probe answers while the condition does not hold yet. */
type NotYet = false | undefined | null;

/**
 * The one way tests wait for something that happens on its own time (a process listening, a
 * consumer draining, a background timer firing): polls `probe` every `intervalMs` until it answers
 * something other than `false`, `undefined` or `null`, and resolves with that answer. A probe that
 * throws counts as "not yet" (a server still starting refuses connections). Past `timeoutMs` it
 * rejects with `timed out after <timeoutMs> ms waiting for <what>`, and the last error the probe
 * threw, if any, as the cause; the deadline is not optional.
 */
export async function waitUntil<T>(
  probe: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<Exclude<T, NotYet>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const answer = await probe();
      if (answer !== false && answer !== undefined && answer !== null) return answer as Exclude<T, NotYet>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const message = `timed out after ${timeoutMs} ms waiting for ${what}`;
      throw lastError === undefined ? new Error(message) : new Error(message, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}
