import { LarderError } from '../../errors.ts';
import { CircuitBreaker, type BreakerState } from '../../net/circuit-breaker.ts';
import { HttpUpstream } from '../../net/http-upstream.ts';
import type { EnrichmentHandler, HandlerCall } from './handler.ts';

export interface HttpHandlerOptions {
  readonly url: string;
  readonly breaker: { readonly failures: number; readonly resetMs: number };
  readonly onBreakerChange?: (state: BreakerState) => void;
  readonly now?: () => number;
}

/**
 * An existing synchronous model service as a handler: `POST <url>` with the input as the JSON
 * body; a 2xx answer's JSON body is the result, anything else a failure. Each call is bounded by
 * its timeout. A circuit breaker watches the service's health: server errors (5xx), timeouts and
 * connection failures count against it, a 4xx or an unreadable body does not (the service
 * answered; the input was the problem). While it is open the handler's capacity is 0, so the
 * worker stops taking work for it instead of burning attempts.
 */
export function createHttpHandler(options: HttpHandlerOptions): EnrichmentHandler {
  const upstream = new HttpUpstream();
  const url = new URL(options.url);
  const breaker = new CircuitBreaker({
    failures: options.breaker.failures,
    resetMs: options.breaker.resetMs,
    ...(options.onBreakerChange === undefined ? {} : { onStateChange: options.onBreakerChange }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });

  async function call(call: HandlerCall): Promise<unknown> {
    if (!breaker.tryAcquire()) {
      throw new LarderError(
        'LARDER_ERR_ENRICH_BREAKER_OPEN',
        `${call.enricher}: ${options.url} failed too often; calls are held back`,
      );
    }
    const answer = await upstream.call(url, 'POST', JSON.stringify(call.input), call.timeoutMs);
    const serviceFailed =
      answer.outcome === 'timeout' ||
      answer.outcome === 'network_error' ||
      (answer.outcome === 'http_error' && (answer.status ?? 500) >= 500);
    if (serviceFailed) breaker.failure();
    else breaker.success();
    switch (answer.outcome) {
      case 'ok':
        return answer.body;
      case 'timeout':
        throw new LarderError(
          'LARDER_ERR_ENRICH_TIMEOUT',
          `${call.enricher}: ${options.url} did not answer within ${call.timeoutMs} ms`,
        );
      case 'network_error':
        throw new LarderError(
          'LARDER_ERR_ENRICH_HANDLER',
          `${call.enricher}: ${options.url} could not be reached`,
        );
      case 'bad_body':
        throw new LarderError(
          'LARDER_ERR_ENRICH_HANDLER',
          `${call.enricher}: ${options.url} answered a body that is not JSON`,
        );
      default:
        throw new LarderError(
          'LARDER_ERR_ENRICH_HANDLER',
          `${call.enricher}: ${options.url} answered HTTP ${answer.status}`,
        );
    }
  }

  return {
    call,
    capacity: () => (breaker.state === 'closed' ? Number.POSITIVE_INFINITY : breaker.canAcquire() ? 1 : 0),
    close: () => upstream.close(),
  };
}
