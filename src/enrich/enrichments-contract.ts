import type { Invocation } from './invocation-queue.ts';

/**
 * What serving takes from enrichment: invoking an enricher over HTTP and reading an invocation's
 * status (`POST /v1/enrichers/<name>/invocations`, `GET .../invocations/<id>`). The runtime builds
 * it on the queue the config names.
 */
export interface Enrichments {
  /**
   * Queues one invocation with `input` as the handler's input; resolves with its id once it is
   * durable. Throws `LARDER_ERR_ENRICH_UNKNOWN_ENRICHER` or `LARDER_ERR_ENRICH_INPUT`.
   */
  invoke(enricher: string, input: unknown): Promise<{ readonly id: string }>;
  /** Throws `LARDER_ERR_ENRICH_UNKNOWN_ENRICHER` or `LARDER_ERR_ENRICH_NOT_FOUND`. */
  status(enricher: string, id: string): Promise<Invocation>;
}
