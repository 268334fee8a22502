import type { IncomingEvent, IngestReport } from './types.ts';

/**
 * The in-process write path shared by every source (HTTP push, broker consumers, batch jobs):
 * dispatch each event to the features that want it, map it, write all resulting rows in one durable
 * store batch, and dead-letter what was rejected. Resolves once the writes are durable.
 */
export interface Ingestor {
  ingest(events: readonly IncomingEvent[], options?: { readonly origin?: string }): Promise<IngestReport>;
}
