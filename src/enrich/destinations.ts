import { LarderError } from '../errors.ts';
import type { Ingestor } from '../ingest/ingestor-contract.ts';
import { openTopicPublisher } from '../ingest/stream/source-factory.ts';
import type { TopicPublisher } from '../ingest/stream/topic-publisher.ts';
import type { RegistryHolder } from '../registry/registry-holder.ts';
import type { EnricherDestination, StreamDef } from '../registry/types.ts';
import { errorText } from './handlers/handler.ts';
import type { Invocation, InvocationError } from './invocation-queue.ts';
import { failureEventId, successEventId } from './invocation-ids.ts';

/**
 * Where results go. A destination names a stream of the registry and a topic:
 *
 * - for an `http` stream the event is ingested in this process, through the write path, as if it
 *   had been pushed (so features fed by it see it before the invocation counts as succeeded);
 * - for a broker-bound stream it is published to that broker topic, and the stream's consumers
 *   ingest it like any event.
 *
 * Publishing resolves once the event is durable (written, or acknowledged by the broker). A failure
 * throws `LARDER_ERR_ENRICH_DESTINATION`; the worker retries the invocation, and since the event id
 * comes from the invocation id, an event published twice is written once.
 */
export class Destinations {
  readonly #registry: RegistryHolder;
  readonly #ingestor: Ingestor;
  /** Broker publishers, by stream name, with the stream definition they were opened for. */
  readonly #publishers = new Map<string, { binding: string; publisher: Promise<TopicPublisher> }>();

  constructor(options: { readonly registry: RegistryHolder; readonly ingestor: Ingestor }) {
    this.#registry = options.registry;
    this.#ingestor = options.ingestor;
  }

  /** `{...input, result, invocationId, eventId}`: the input at the top level, so ids are found there. */
  static successEvent(invocation: Invocation, result: unknown): Record<string, unknown> {
    return {
      ...invocation.input,
      result,
      invocationId: invocation.id,
      eventId: successEventId(invocation.id),
    };
  }

  /** `{input, error, attempts, invocationId, eventId}`. */
  static failureEvent(invocation: Invocation, error: InvocationError): Record<string, unknown> {
    return {
      input: invocation.input,
      error,
      attempts: invocation.attempts,
      invocationId: invocation.id,
      eventId: failureEventId(invocation.id),
    };
  }

  async publish(destination: EnricherDestination, bodies: readonly Record<string, unknown>[]): Promise<void> {
    if (bodies.length === 0) return;
    const stream = this.#registry.current.streams.get(destination.streamName);
    try {
      if (stream === undefined || stream.source === 'http') {
        const receivedAt = Date.now();
        await this.#ingestor.ingest(
          bodies.map((body) => ({
            stream: destination.streamName,
            topic: destination.topic,
            body,
            receivedAt,
          })),
          { origin: `enrich:${destination.streamName}/${destination.topic}` },
        );
        return;
      }
      const publisher = await this.#publisher(stream);
      await publisher.publish(
        destination.topic,
        bodies.map((body) => ({ key: String(body.eventId), payload: JSON.stringify(body) })),
      );
    } catch (err) {
      throw new LarderError(
        'LARDER_ERR_ENRICH_DESTINATION',
        `publishing to ${destination.streamName}/${destination.topic} failed: ${errorText(err)}`,
        { cause: err },
      );
    }
  }

  async close(): Promise<void> {
    const publishers = [...this.#publishers.values()];
    this.#publishers.clear();
    await Promise.all(publishers.map(async (p) => (await p.publisher.catch(() => undefined))?.close()));
  }

  /** The stream's publisher, opened again when a registry reload changed the stream. */
  async #publisher(def: StreamDef): Promise<TopicPublisher> {
    const binding = JSON.stringify([def.source, def.connection, def.options, def.payloadField]);
    const known = this.#publishers.get(def.name);
    if (known !== undefined && known.binding === binding) return known.publisher;
    if (known !== undefined) void known.publisher.then((p) => p.close()).catch(() => undefined);
    const publisher = openTopicPublisher(def);
    publisher.catch(() => this.#publishers.delete(def.name));
    this.#publishers.set(def.name, { binding, publisher });
    return publisher;
  }
}
