import { Redis } from 'ioredis';
import type { BatchConfig } from '../../../config/batch-section.ts';

/** The BullMQ queue every distributed batch task goes through. */
export const BATCH_QUEUE = 'larder-batch';

/** What a queued task carries: ids only; the job store holds the slice and the mapping. */
export interface QueuedTask {
  readonly jobId: string;
  readonly index: number;
  readonly attempt: number;
}

/** BullMQ's key prefix for this installation, beside the job store's keys. */
export function bullPrefix(config: Pick<BatchConfig, 'prefix'>): string {
  return `${config.prefix}:bull`;
}

/** A connection as BullMQ workers need it (blocking commands must not be retried by ioredis). */
export function bullConnection(config: Pick<BatchConfig, 'redisUrl'>): Redis {
  return new Redis(config.redisUrl, { maxRetriesPerRequest: null });
}
