/**
 * Retry policy for DynamoDB calls: capped exponential backoff with full jitter, so that many
 * writers throttled at the same moment do not retry in lockstep (AWS Architecture Blog,
 * "Exponential Backoff And Jitter").
 */

export interface BackoffOptions {
  /** First delay ceiling, ms. */
  readonly baseMs: number;
  /** Largest delay ceiling, ms. */
  readonly capMs: number;
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 25, capMs: 2_000, maxAttempts: 10 };

/** Full-jitter delay before retry number `attempt` (1 = the first retry). */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** DynamoDB error names that mean "too fast, slow down"; they feed the throttle metric. */
const THROTTLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/** Server-side or transport failures that are safe to retry for idempotent or conditional calls. */
const TRANSIENT_NAMES = new Set([
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

export function isThrottle(err: unknown): boolean {
  return err instanceof Error && THROTTLE_NAMES.has(err.name);
}

export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (THROTTLE_NAMES.has(err.name) || TRANSIENT_NAMES.has(err.name)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}
