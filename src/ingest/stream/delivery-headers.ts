import type { DeliveryHeaders, FailureInfo, RetryInfo, SourceMessage } from './stream-source.ts';

/**
 * The wire names of delivery headers, shared by every broker that carries key/value headers
 * (Redis Streams entry fields, NATS headers, Kafka headers). The `larder-` prefix keeps them apart
 * from a producer's own fields.
 */
export const HEADER = {
  attempts: 'larder-attempts',
  originStream: 'larder-origin-stream',
  originPartition: 'larder-origin-partition',
  originOffset: 'larder-origin-offset',
  firstFailureAt: 'larder-first-failure-at',
  lastError: 'larder-last-error',
  errorCode: 'larder-error-code',
  dueAt: 'larder-due-at',
  originPublishedAt: 'larder-origin-published-at',
  deadAt: 'larder-dead-at',
} as const;

/** Reads headers from a lookup; absent or malformed values are left out. */
export function readHeaders(get: (name: string) => string | undefined): DeliveryHeaders {
  const num = (name: string): number | undefined => {
    const text = get(name);
    if (text === undefined || text === '') return undefined;
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  };
  const headers: { -readonly [K in keyof DeliveryHeaders]: DeliveryHeaders[K] } = {
    attempts: num(HEADER.attempts) ?? 0,
  };
  const originStream = get(HEADER.originStream);
  if (originStream !== undefined) headers.originStream = originStream;
  const originPartition = get(HEADER.originPartition);
  if (originPartition !== undefined) headers.originPartition = originPartition;
  const originOffset = get(HEADER.originOffset);
  if (originOffset !== undefined) headers.originOffset = originOffset;
  const firstFailureAt = num(HEADER.firstFailureAt);
  if (firstFailureAt !== undefined) headers.firstFailureAt = firstFailureAt;
  const lastError = get(HEADER.lastError);
  if (lastError !== undefined) headers.lastError = lastError;
  const dueAt = num(HEADER.dueAt);
  if (dueAt !== undefined) headers.dueAt = dueAt;
  const originPublishedAt = num(HEADER.originPublishedAt);
  if (originPublishedAt !== undefined) headers.originPublishedAt = originPublishedAt;
  return headers;
}

/**
 * Headers for a copy of `message` published to a retry or dead-letter stream: the original
 * identity (stream, partition, offset, publication time) survives any number of hops.
 */
export function failureHeaders(
  message: SourceMessage,
  originStream: string,
  info: FailureInfo,
  extra: { readonly dueAt?: number; readonly deadAt?: number },
): Record<string, string> {
  const h = message.headers;
  const out: Record<string, string> = {
    [HEADER.attempts]: String(info.attempts),
    [HEADER.originStream]: h.originStream ?? originStream,
    [HEADER.originPartition]: h.originPartition ?? message.partition,
    [HEADER.originOffset]: h.originOffset ?? message.offset,
    [HEADER.firstFailureAt]: String(info.firstFailureAt),
    [HEADER.lastError]: info.error.slice(0, 2_000),
    [HEADER.errorCode]: info.code,
  };
  const publishedAt = h.originPublishedAt ?? message.publishedAt;
  if (publishedAt !== undefined) out[HEADER.originPublishedAt] = String(publishedAt);
  if (extra.dueAt !== undefined) out[HEADER.dueAt] = String(extra.dueAt);
  if (extra.deadAt !== undefined) out[HEADER.deadAt] = String(extra.deadAt);
  return out;
}

/** Headers of a retry copy: due `info.delayMs` from now. */
export function retryHeaders(
  message: SourceMessage,
  originStream: string,
  info: RetryInfo,
): Record<string, string> {
  return failureHeaders(message, originStream, info, { dueAt: Date.now() + info.delayMs });
}

/** Headers of a dead-letter copy: dead as of now. */
export function deadLetterHeaders(
  message: SourceMessage,
  originStream: string,
  info: FailureInfo,
): Record<string, string> {
  return failureHeaders(message, originStream, info, { deadAt: Date.now() });
}
