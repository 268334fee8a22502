import type { Logger } from 'pino';
import type { EnrichConfig } from '../config/enrich-section.ts';
import { isLarderError } from '../errors.ts';
import { backoffMs } from '../ingest/backoff.ts';
import type { EnricherDef } from '../registry/types.ts';
import { Autoscaler } from './autoscaler.ts';
import { Destinations } from './destinations.ts';
import type { EnrichMetrics } from './enrich-metrics.ts';
import { callTimeoutMs } from './handlers/create-handler.ts';
import { errorText, type EnrichmentHandler } from './handlers/handler.ts';
import type { Claim, InvocationError, InvocationQueue } from './invocation-queue.ts';

export type WorkerSettings = Pick<
  EnrichConfig,
  'scaleIntervalMs' | 'scaleStep' | 'leaseGraceMs' | 'pollIntervalMs'
>;

export interface EnricherWorkerOptions {
  readonly def: EnricherDef;
  readonly queue: InvocationQueue;
  readonly handler: EnrichmentHandler;
  readonly destinations: Pick<Destinations, 'publish'>;
  readonly settings: WorkerSettings;
  readonly metrics?: EnrichMetrics;
  readonly logger?: Logger;
}

/**
 * Runs one enricher's invocations: takes work from the queue only for free slots, calls the
 * handler, publishes the outcome and settles the invocation.
 *
 * - **Slots.** At most `limit` calls run at once; the limit is autoscaled between the enricher's
 *   `concurrency.min` and `max` from the backlog (see autoscaler.ts). Nothing is taken for a slot
 *   that is not free, and nothing while the handler has no capacity (an open breaker).
 * - **Success.** The onSuccess event is published (durably) before the invocation is marked
 *   succeeded: a crash in between re-runs the invocation, and its event, whose id comes from the
 *   invocation id, lands on the same rows.
 * - **Failure.** A failed attempt (the handler failed, timed out or crashed, or publishing failed)
 *   is retried after `backoff · 2^(attempt-1)`, at most `maxBackoff`. After the last retry the
 *   onFailure event is published and the invocation is dead (the dead-letter queue of
 *   `larder dlq --enricher`). An invocation taken more often than it may be tried (its workers kept
 *   dying mid-call, so its leases ran out) goes the same way without another call.
 */
export class EnricherWorker {
  readonly #options: EnricherWorkerOptions;
  readonly #autoscaler: Autoscaler;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stopAdded: () => void;
  #completedSinceTick = 0;
  /** Slots asked of the queue by a take still in flight. */
  #taking = 0;
  #stopping = false;
  #wake: (() => void) | undefined;
  /** A wake-up that came while the loop was not asleep (it was taking): the next sleep ends at once. */
  #wokenEarly = false;
  #loop: Promise<void> | undefined;
  #scaleTimer: NodeJS.Timeout | undefined;

  constructor(options: EnricherWorkerOptions) {
    this.#options = options;
    const { def, settings } = options;
    this.#autoscaler = new Autoscaler({ ...def.concurrency, step: settings.scaleStep });
    this.#stopAdded = options.queue.onAdded((enricher) => {
      if (enricher === def.name) this.#wakeUp();
    });
  }

  get name(): string {
    return this.#options.def.name;
  }

  /** The autoscaled limit of calls at once. */
  get concurrency(): number {
    return this.#autoscaler.limit;
  }

  /** Every limit taken, oldest first. */
  get concurrencyHistory(): readonly { readonly at: number; readonly limit: number }[] {
    return this.#autoscaler.history;
  }

  /** Calls running now. */
  get running(): number {
    return this.#inFlight.size;
  }

  start(): void {
    this.#loop ??= this.#takeLoop();
    this.#scaleTimer = setInterval(() => void this.#scale(), this.#options.settings.scaleIntervalMs);
    this.#scaleTimer.unref();
  }

  /** Stops taking work and waits for the calls in flight to finish. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stopAdded();
    clearInterval(this.#scaleTimer);
    this.#wakeUp();
    await this.#loop;
    await Promise.all([...this.#inFlight]);
  }

  async #takeLoop(): Promise<void> {
    const { def, queue, handler, settings, logger } = this.#options;
    const leaseMs = callTimeoutMs(def) + settings.leaseGraceMs;
    let queueFailures = 0;
    while (!this.#stopping) {
      const capacity = handler.capacity?.() ?? Number.POSITIVE_INFINITY;
      const want = Math.min(this.#autoscaler.limit - this.#inFlight.size, capacity);
      if (want <= 0) {
        // Woken when a call finishes; an open breaker is looked at again after a poll interval.
        await this.#sleep(capacity <= 0 ? settings.pollIntervalMs : undefined);
        continue;
      }
      let claims: Claim[];
      // The slots asked for count as running while the take is in flight, so the autoscaler
      // cannot shrink the limit below what the take is about to hand out.
      this.#taking = want;
      try {
        claims = await queue.take(def.name, want, leaseMs);
        queueFailures = 0;
      } catch (err) {
        queueFailures++;
        logger?.error({ err, enricher: def.name }, 'enrich: taking from the queue failed');
        await this.#sleep(backoffMs(queueFailures, 100, 5_000));
        continue;
      } finally {
        this.#taking = 0;
      }
      if (claims.length === 0) {
        await this.#sleep(settings.pollIntervalMs);
        continue;
      }
      for (const claim of claims) {
        const call = this.#process(claim)
          .catch((err: unknown) =>
            logger?.error({ err, enricher: def.name }, 'enrich: settling an invocation failed'),
          )
          .finally(() => {
            this.#inFlight.delete(call);
            this.#completedSinceTick++;
            this.#wakeUp();
          });
        this.#inFlight.add(call);
      }
      this.#options.metrics?.concurrency(def.name, this.#autoscaler.limit, this.#inFlight.size);
    }
  }

  async #process(claim: Claim): Promise<void> {
    const { def, handler, metrics } = this.#options;
    const invocation = claim.invocation;
    if (invocation.attempts > def.retries.max + 1) {
      return this.#dead(claim, {
        code: 'LARDER_ERR_ENRICH_CRASHED',
        message: `taken ${invocation.attempts - 1} times without an outcome: its workers stopped during the call`,
      });
    }
    const started = performance.now();
    let result: unknown;
    try {
      result = await handler.call({
        enricher: def.name,
        invocationId: invocation.id,
        attempt: invocation.attempts,
        input: invocation.input,
        timeoutMs: callTimeoutMs(def),
      });
      metrics?.handlerCall(def.name, true, (performance.now() - started) / 1000);
    } catch (err) {
      metrics?.handlerCall(def.name, false, (performance.now() - started) / 1000);
      return this.#failed(claim, asInvocationError(err));
    }
    try {
      await this.#options.destinations.publish(def.onSuccess, [
        Destinations.successEvent(invocation, result),
      ]);
    } catch (err) {
      return this.#failed(claim, asInvocationError(err));
    }
    if (await this.#options.queue.succeed(def.name, claim, result)) metrics?.outcome(def.name, 'succeeded');
  }

  async #failed(claim: Claim, error: InvocationError): Promise<void> {
    const { def, queue, metrics } = this.#options;
    const { attempts } = claim.invocation;
    if (attempts > def.retries.max) return this.#dead(claim, error);
    const delay = backoffMs(attempts - 1, def.retries.backoffMs, def.retries.maxBackoffMs);
    if (await queue.retry(def.name, claim, error, Date.now() + delay)) metrics?.outcome(def.name, 'failed');
  }

  /** The last attempt failed: onFailure, then the dead-letter queue. */
  async #dead(claim: Claim, error: InvocationError): Promise<void> {
    const { def, queue, metrics, logger } = this.#options;
    if (def.onFailure !== undefined) {
      try {
        await this.#options.destinations.publish(def.onFailure, [
          Destinations.failureEvent(claim.invocation, error),
        ]);
      } catch (err) {
        // Not dead before its failure event is out: try again later (it comes back past its
        // last attempt, so only the publishing is tried again, not the handler).
        const retryAt = Date.now() + def.retries.maxBackoffMs;
        await queue.retry(def.name, claim, asInvocationError(err), retryAt);
        return;
      }
    }
    if (!(await queue.bury(def.name, claim, error))) return;
    metrics?.outcome(def.name, 'dead');
    logger?.warn(
      { enricher: def.name, invocation: claim.invocation.id, attempts: claim.invocation.attempts, error },
      'enrich: invocation dead-lettered',
    );
  }

  async #scale(): Promise<void> {
    const { def, queue, metrics } = this.#options;
    try {
      const counts = await queue.counts(def.name);
      metrics?.queue(def.name, counts);
      const before = this.#autoscaler.limit;
      const limit = this.#autoscaler.tick({
        backlog: counts.queued,
        completed: this.#completedSinceTick,
        running: this.#inFlight.size + this.#taking,
      });
      this.#completedSinceTick = 0;
      metrics?.concurrency(def.name, limit, this.#inFlight.size);
      if (limit > before) this.#wakeUp();
    } catch (err) {
      this.#options.logger?.warn({ err, enricher: def.name }, 'enrich: reading the queue counts failed');
    }
  }

  /** Resolves on `#wakeUp()`, or after `ms` when given. */
  #sleep(ms: number | undefined): Promise<void> {
    if (this.#wokenEarly) {
      this.#wokenEarly = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    if (wake === undefined) this.#wokenEarly = true;
    else wake();
  }
}

function asInvocationError(err: unknown): InvocationError {
  return isLarderError(err)
    ? { code: err.code, message: err.message }
    : { code: 'LARDER_ERR_ENRICH_HANDLER', message: errorText(err) };
}
