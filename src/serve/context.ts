import type { Logger } from 'pino';
import type { RegistryHolder } from '../registry/registry-holder.ts';
import type { OnlineStore } from '../store/online-store.ts';
import type { DeadLetterStore } from '../store/dead-letters.ts';
import type { IncomingEvent, IngestReport } from '../ingest/types.ts';

/** Everything the HTTP server needs, assembled by src/runtime/ for `larder serve` and `larder demo`. */
export interface ServeContext {
  readonly registry: RegistryHolder;
  readonly store: OnlineStore;
  readonly deadLetters: DeadLetterStore;
  /** The in-process write path: route, map, write durably, dead-letter the rejects. */
  ingest(events: readonly IncomingEvent[]): Promise<IngestReport>;
  readonly logger: Logger;
}
