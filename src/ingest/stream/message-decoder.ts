import { compilePath, type PathReader } from '../event-path.ts';
import { parseTimestamp } from '../event-identity.ts';
import type { IncomingEvent } from '../types.ts';
import { parseJsonOrUnparseable } from '../unparseable.ts';
import { payloadText, type SourceMessage } from './stream-source.ts';

/** A broker message turned into what the ingestor and the scheduler need. */
export interface DecodedMessage {
  readonly event: IncomingEvent;
  /** Ordering key: messages with the same key are processed in order. */
  readonly key: string | undefined;
  /** Event time (epoch ms) for the freshness metric, when it can be read. */
  readonly eventTime: number | undefined;
}

export type MessageDecoder = (message: SourceMessage) => DecodedMessage;

export interface DecoderOptions {
  readonly stream: string;
  readonly topic: string;
  /**
   * Dotted paths whose values make up the ordering key (the stream's entityIdField, or the idFields
   * of the entities it feeds). With none, the broker key orders messages, else nothing does.
   */
  readonly keyFields: readonly string[];
  readonly timestampField: string | undefined;
}

/**
 * Builds the decoder of one source. The arrival time given to the ingestor is the broker's
 * publication time (kept across retries), never the local clock, so a redelivered event without a
 * timestampField gets the same row timestamp as the first delivery and the write stays idempotent.
 */
export function createMessageDecoder(options: DecoderOptions): MessageDecoder {
  const keyReaders: PathReader[] = options.keyFields.map((field) => compilePath(field));
  const readTs = options.timestampField === undefined ? undefined : compilePath(options.timestampField);
  const field = options.timestampField ?? '';
  return (message) => {
    const text = payloadText(message.payload);
    const body = parseJsonOrUnparseable(text);
    const publishedAt = message.headers.originPublishedAt ?? message.publishedAt;
    const receivedAt = publishedAt ?? Date.now();
    return {
      event: { stream: options.stream, topic: options.topic, body, bytes: text, receivedAt },
      key: message.key ?? keyOf(keyReaders, body),
      eventTime: eventTimeOf(readTs, body, field) ?? publishedAt,
    };
  };
}

function keyOf(readers: readonly PathReader[], body: unknown): string | undefined {
  if (readers.length === 0) return undefined;
  if (readers.length === 1) return scalarText(readers[0]!(body));
  let key: string | undefined;
  for (const read of readers) {
    const part = scalarText(read(body));
    if (part !== undefined) key = key === undefined ? part : `${key}\u0000${part}`;
  }
  return key;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return undefined;
}

function eventTimeOf(read: PathReader | undefined, body: unknown, field: string): number | undefined {
  if (read === undefined) return undefined;
  const raw = read(body);
  if (raw === undefined || raw === null) return undefined;
  try {
    return parseTimestamp(raw, field);
  } catch {
    return undefined;
  }
}
