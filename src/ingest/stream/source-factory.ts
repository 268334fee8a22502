import { LarderError } from '../../errors.ts';
import type { StreamDef } from '../../registry/types.ts';
import type { BrokerDeadLetterQueue } from './broker-dlq-contract.ts';
import type { ConsumerOptions } from '../../registry/stream-options.ts';
import type { SourceContext, StreamSource } from './stream-source.ts';
import type { TopicPublisher } from './topic-publisher.ts';

/**
 * Creates the sources of one `(stream, topic)`: the topic itself, plus any retry-tier sources the
 * adapter reads retries from. Each adapter module is imported only when a stream uses it, so a
 * registry without Kafka never loads the Kafka client.
 */
export async function createSources(
  def: StreamDef,
  topic: string,
  options: ConsumerOptions,
  context: SourceContext,
): Promise<StreamSource[]> {
  switch (def.source) {
    case 'redis':
      return (await import('./redis-source.ts')).createRedisSources(def, topic, options.retryDelaysMs);
    case 'nats':
      return (await import('./nats-source.ts')).createNatsSources(def, topic, options);
    case 'kinesis':
      return (await import('./kinesis-source.ts')).createKinesisSources(def, topic, options, context);
    case 'kafka':
      return (await import('./kafka-source.ts')).createKafkaSources(def, topic, options);
    case 'http':
      return [];
  }
}

/** Opens the broker dead-letter queue of one `(stream, topic)`. Redis and NATS keep one. */
export async function openBrokerDeadLetterQueue(
  def: StreamDef,
  topic: string,
): Promise<BrokerDeadLetterQueue> {
  switch (def.source) {
    case 'redis':
      return (await import('./redis-source.ts')).openRedisDeadLetters(def, topic);
    case 'nats':
      return (await import('./nats-source.ts')).openNatsDeadLetters(def, topic);
    default:
      throw new LarderError(
        'LARDER_ERR_STREAM_UNSUPPORTED',
        `stream "${def.name}" uses ${def.source}: broker dead-letter inspection exists for redis and nats only; ` +
          `read the ${def.source} dead-letter topic with the broker's own tools`,
      );
  }
}

/**
 * The publisher of a broker-bound stream (see topic-publisher.ts), its adapter imported only when a
 * stream uses it. Events for an `http` stream are not published anywhere: the caller ingests them.
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
      throw new LarderError(
        'LARDER_ERR_STREAM_UNSUPPORTED',
        `stream "${def.name}" is an http stream: its events are ingested in-process, not published`,
      );
  }
}
