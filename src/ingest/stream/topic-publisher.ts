/**
 * Publishing events to a broker topic, the producer side of a broker-bound stream (the consumer
 * side is `StreamSource`). The enrichment workers publish their result events with it. Each
 * adapter file implements it beside its source, with the same connection settings, and is the only
 * file that imports its broker's client; `openTopicPublisher` (source-factory.ts) picks the adapter.
 */
export interface PublishedEvent {
  /** Partitioning / ordering key where the broker has one (Kafka key, Kinesis partition key). */
  readonly key: string;
  /** The event as JSON text. */
  readonly payload: string;
}

export interface TopicPublisher {
  /** Publishes the events to `topic`; resolves once the broker has acknowledged every one. */
  publish(topic: string, events: readonly PublishedEvent[]): Promise<void>;
  close(): Promise<void>;
}
