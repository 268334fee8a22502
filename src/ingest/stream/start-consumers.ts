import type { Logger } from 'pino';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { Registry, StreamDef } from '../../registry/types.ts';
import type { Ingestor } from '../ingestor-contract.ts';
import { StreamConsumer } from './consumer.ts';
import { readConsumerOptions } from '../../registry/stream-options.ts';
import { createMessageDecoder } from './message-decoder.ts';
import { createSources } from './source-factory.ts';
import { StreamMetrics } from './stream-metrics.ts';

export interface StartConsumersOptions {
  readonly registry: RegistryHolder;
  readonly ingestor: Ingestor;
  readonly logger: Logger;
  readonly dataDir: string;
  /** Where metrics go; a fresh `StreamMetrics` (own prom-client registry) by default. */
  readonly metrics?: StreamMetrics;
  /** How often lag is polled from the brokers. Default 5 s. */
  readonly lagIntervalMs?: number;
}

export interface RunningConsumers {
  /** Drains every consumer (in-flight messages finish, offsets are committed) and closes them. */
  stop(): Promise<void>;
  readonly metrics: StreamMetrics;
  /** The consumers running now, for the console and tests. */
  consumers(): readonly StreamConsumer[];
  /**
   * Each running `(stream, topic)` with the ids of its sources: the topic's own first, then its
   * retry tiers (the ids the metrics are labelled with), for the console.
   */
  bindings(): readonly RunningBinding[];
}

export interface RunningBinding {
  readonly stream: string;
  readonly topic: string;
  readonly source: StreamDef['source'];
  readonly sourceIds: readonly string[];
}

/** One broker-bound `(stream, topic)` the registry reads, with what its consumer needs. */
export interface ConsumerBinding {
  readonly id: string;
  readonly stream: StreamDef;
  readonly topic: string;
  /** Paths whose values order messages (entity ids). */
  readonly keyFields: readonly string[];
}

/**
 * Lists the broker-bound topics of a registry: for every stream whose `source` is not `http`, each
 * distinct `topic` its feature bindings name.
 */
export function consumerBindings(registry: Registry): ConsumerBinding[] {
  const byId = new Map<string, { stream: StreamDef; topic: string; keys: Set<string> }>();
  for (const feature of registry.features) {
    const entity = registry.entities.get(feature.entity);
    for (const binding of feature.events) {
      const stream = registry.streams.get(binding.streamName);
      if (stream === undefined || stream.source === 'http') continue;
      const id = `${stream.name}\u0000${binding.topic}\u0000${JSON.stringify([stream.source, stream.connection, stream.group, stream.options])}`;
      const entry = byId.get(id) ?? { stream, topic: binding.topic, keys: new Set<string>() };
      const keyField = binding.entityIdField ?? stream.entityIdField ?? entity?.idField;
      if (keyField !== undefined) entry.keys.add(keyField);
      byId.set(id, entry);
    }
  }
  return [...byId].map(([id, e]) => ({
    id,
    stream: e.stream,
    topic: e.topic,
    keyFields: [...e.keys].sort(),
  }));
}

/**
 * Starts one consumer per broker-bound topic in the registry (plus the retry-tier consumers of
 * adapters that read retries from their own streams), and follows registry reloads: topics that
 * appear get a consumer, topics that disappear or change binding are drained and stopped.
 */
export async function startConsumers(options: StartConsumersOptions): Promise<RunningConsumers> {
  const { registry, ingestor, logger, dataDir } = options;
  const metrics = options.metrics ?? new StreamMetrics();
  const running = new Map<string, StreamConsumer[]>();
  const bindingOf = new Map<string, ConsumerBinding>();
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;

  async function startBinding(binding: ConsumerBinding): Promise<void> {
    const consumerOptions = readConsumerOptions(binding.stream.name, binding.stream.options);
    const sources = await createSources(binding.stream, binding.topic, consumerOptions, { dataDir });
    const decode = createMessageDecoder({
      stream: binding.stream.name,
      topic: binding.topic,
      keyFields: binding.keyFields,
      timestampField: binding.stream.timestampField,
    });
    const consumers = sources.map(
      (source) =>
        new StreamConsumer({ source, ingestor, decode, options: consumerOptions, logger, observer: metrics }),
    );
    // The topic and its retry tiers connect at the same time (one after another took up to ~1 s).
    const outcomes = await Promise.allSettled(consumers.map((consumer) => consumer.start()));
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure !== undefined) {
      await Promise.all(consumers.filter((_, i) => outcomes[i]?.status === 'fulfilled').map((c) => c.stop()));
      throw failure.reason;
    }
    running.set(binding.id, consumers);
    bindingOf.set(binding.id, binding);
    logger.info(
      { stream: binding.stream.name, topic: binding.topic, sources: sources.map((s) => s.id) },
      'stream consumers started',
    );
  }

  async function stopBinding(id: string): Promise<void> {
    const consumers = running.get(id);
    running.delete(id);
    bindingOf.delete(id);
    await Promise.all((consumers ?? []).map((c) => c.stop()));
  }

  async function reconcile(next: Registry): Promise<void> {
    const wanted = new Map(consumerBindings(next).map((b) => [b.id, b]));
    for (const id of [...running.keys()]) if (!wanted.has(id)) await stopBinding(id);
    for (const [id, binding] of wanted) {
      if (running.has(id) || stopped) continue;
      await startBinding(binding);
    }
  }

  await reconcile(registry.current);
  const unsubscribe = registry.onChange((next) => {
    chain = chain
      .then(() => reconcile(next))
      .catch((err: unknown) => logger.error({ err }, 'stream consumers: applying the new registry failed'));
  });

  const lagTimer = setInterval(() => {
    for (const consumer of [...running.values()].flat()) {
      consumer.source
        .lag()
        .then((lags) => metrics.lag(consumer.source.id, lags))
        .catch(() => metrics.brokerError(consumer.source.id, 'lag'));
    }
  }, options.lagIntervalMs ?? 5_000);
  lagTimer.unref();

  return {
    metrics,
    consumers: () => [...running.values()].flat(),
    bindings: () =>
      [...running].flatMap(([id, consumers]) => {
        const binding = bindingOf.get(id);
        if (binding === undefined) return [];
        return [
          {
            stream: binding.stream.name,
            topic: binding.topic,
            source: binding.stream.source,
            sourceIds: consumers.map((c) => c.source.id),
          },
        ];
      }),
    async stop() {
      stopped = true;
      unsubscribe();
      clearInterval(lagTimer);
      await chain;
      await Promise.all([...running.keys()].map((id) => stopBinding(id)));
    },
  };
}
