import { Counter, register as defaultRegistry, type Registry } from 'prom-client';

/** Counters of the DynamoDB store: throttling, retries and unprocessed batch items, per operation. */
export interface DynamoMetrics {
  throttled(op: string): void;
  retried(op: string): void;
  unprocessed(op: string, items: number): void;
  /** Plain totals, for tests and logs. */
  readonly totals: { throttled: number; retried: number; unprocessed: number };
}

function counter(registry: Registry, name: string, help: string): Counter<'op'> {
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Counter<'op'>;
  return new Counter({ name, help, labelNames: ['op'], registers: [registry] });
}

/** Registers (once per registry) and returns the DynamoDB counters. */
export function createDynamoMetrics(registry: Registry = defaultRegistry): DynamoMetrics {
  const throttledCounter = counter(
    registry,
    'larder_dynamodb_throttled_total',
    'DynamoDB calls rejected by throttling (retried with backoff)',
  );
  const retriedCounter = counter(registry, 'larder_dynamodb_retries_total', 'DynamoDB calls retried');
  const unprocessedCounter = counter(
    registry,
    'larder_dynamodb_unprocessed_items_total',
    'Items returned as UnprocessedKeys/UnprocessedItems by batch calls (retried)',
  );
  const totals = { throttled: 0, retried: 0, unprocessed: 0 };
  return {
    totals,
    throttled(op) {
      totals.throttled += 1;
      throttledCounter.inc({ op });
    },
    retried(op) {
      totals.retried += 1;
      retriedCounter.inc({ op });
    },
    unprocessed(op, items) {
      totals.unprocessed += items;
      unprocessedCounter.inc({ op }, items);
    },
  };
}
