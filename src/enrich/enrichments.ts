import { LarderError } from '../errors.ts';
import { isRecord } from '../ingest/event-path.ts';
import type { RegistryHolder } from '../registry/registry-holder.ts';
import type { Enrichments } from './enrichments-contract.ts';
import { errorText } from './handlers/handler.ts';
import type { InvocationQueue } from './invocation-queue.ts';
import { newInvocationId } from './invocation-ids.ts';

/** HTTP invocations and statuses, on the queue of this deployment, for the enrichers of the registry. */
export function createEnrichments(options: {
  readonly registry: RegistryHolder;
  readonly queue: InvocationQueue;
}): Enrichments {
  const { registry, queue } = options;
  const known = (enricher: string): void => {
    if (registry.current.enrichers.has(enricher)) return;
    throw new LarderError('LARDER_ERR_ENRICH_UNKNOWN_ENRICHER', `no enricher "${enricher}" in the registry`, {
      details: { enricher },
    });
  };
  return {
    async invoke(enricher, input) {
      known(enricher);
      if (!isRecord(input)) {
        throw new LarderError('LARDER_ERR_ENRICH_INPUT', 'the invocation body must be one JSON object');
      }
      const id = newInvocationId();
      await reachable(() => queue.put(enricher, [{ id, input }]));
      return { id };
    },
    async status(enricher, id) {
      known(enricher);
      const invocation = await reachable(() => queue.get(enricher, id));
      if (invocation === undefined) {
        throw new LarderError('LARDER_ERR_ENRICH_NOT_FOUND', `no invocation ${id} of ${enricher}`, {
          details: { enricher, id },
        });
      }
      return invocation;
    },
  };
}

/** A queue that fails (Redis down, a full disk) is a 503 the client may retry, not an internal error. */
async function reachable<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw new LarderError('LARDER_ERR_ENRICH_QUEUE', `the invocation queue failed: ${errorText(err)}`, {
      cause: err,
    });
  }
}
