import type { StreamDef } from '../../registry/types.ts';

/**
 * Publishing events to a broker topic, the producer side of a broker-bound stream (the consumer
 * side is `StreamSource`). The enrichment workers publish their result events with it. Each
 * adapter file implements it beside its source, with the same connection settings, and is the only
 * file that imports its broker's client.
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

/**
 * The publisher of a broker-bound stream. The adapter module is imported only when a stream uses
 * it. Events for an `http` stream are not published anywhere: the caller ingests them in-process.
 */
export async function openTopicPublisher(def: StreamDef): Promise<TopicPublisher> {
  switch (def.source) {
    case 'redis':
      return (await import('./redis-source.ts')).createRedisPublisher(def);
    case 'nats':
      return (await import('./nats-source.ts')).createNatsPublisher(def);
    case 'kinesis':
      return (await import('./kinesis-source.ts')).createKinesisPublisher(def);
    case 'kafka':
      return (await import('./kafka-source.ts')).createKafkaPublisher(def);
    case 'http':
      throw new Error(`stream "${def.name}" is an http stream: its events are ingested, not published`);
  }
}
