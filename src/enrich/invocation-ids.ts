import { hash, randomBytes } from 'node:crypto';

/**
 * Invocation ids and the ids of the events an invocation publishes. They are text that every
 * engine takes as a key (BullMQ refuses ids that are integers or contain `:`).
 *
 * - A triggered invocation's id is derived from the enricher and the trigger event's id, so a
 *   redelivered event maps to the invocation already queued instead of a second one.
 * - An HTTP invocation gets a fresh id: a time part (ids sort by creation) and a random part.
 * - The events an invocation publishes take their ids from the invocation's, so running it again
 *   (a retry after a crash, a replay) rewrites the same rows instead of adding new ones.
 */
export function triggeredInvocationId(enricher: string, eventId: string): string {
  return `t-${hash('sha1', `${enricher}\u0000${eventId}`, 'base64url')}`;
}

export function newInvocationId(now = Date.now()): string {
  return `h-${now.toString(36)}-${randomBytes(8).toString('base64url')}`;
}

/** The `eventId` of an invocation's onSuccess event. */
export function successEventId(invocationId: string): string {
  return `${invocationId}.result`;
}

/** The `eventId` of an invocation's onFailure event. */
export function failureEventId(invocationId: string): string {
  return `${invocationId}.failure`;
}
