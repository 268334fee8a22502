import { defaultStream } from '../registry/compile-stream.ts';
import type { Registry, StreamDef } from '../registry/types.ts';
import { compileMapping, type FeatureMapping } from './aggregator.ts';
import { compileIdentityReader, type EventIdentity, type IdentityReader } from './event-identity.ts';
import { compilePath, type PathReader } from './event-path.ts';
import type { IncomingEvent } from './types.ts';

/**
 * The dispatcher: routes each event by `(stream, topic, subTopic)` to every feature binding that
 * wants it. Events and features are M:N: one event can feed many features, and one feature can
 * take many event types. Routing is two Map lookups plus one for the sub-topic, never a scan over
 * the features.
 *
 * A binding without `subTopic` takes every event of its topic. The sub-topic of an event is read
 * from the stream's `subTopicField`; a stream without one only feeds bindings without a subTopic.
 */

/** What the ingestor needs from a router; a batch ingestion can supply its own. */
export interface EventRouter {
  /** False for a stream the registry neither declares nor reads. */
  knowsStream(stream: string): boolean;
  /** The mappings an event feeds; empty when it feeds none. Never allocates per call. */
  routes(stream: string, topic: string, body: Record<string, unknown>): readonly FeatureMapping[];
  /** Event time and id, read with the stream's fields. Throws `LARDER_ERR_EVENT_TIMESTAMP`. */
  identity(event: IncomingEvent, body: Record<string, unknown>): EventIdentity;
}

const NO_ROUTES: readonly FeatureMapping[] = Object.freeze([]);

interface TopicRoutes {
  /** Bindings without subTopic: every event of the topic. */
  readonly any: readonly FeatureMapping[];
  /** `subTopic -> any ++ bindings of that subTopic`, concatenated once at build time. */
  readonly bySubTopic: ReadonlyMap<string, readonly FeatureMapping[]>;
}

interface StreamRoutes {
  readonly def: StreamDef;
  readonly readSubTopic: PathReader | undefined;
  readonly identity: IdentityReader;
  readonly topics: ReadonlyMap<string, TopicRoutes>;
}

export class Dispatcher implements EventRouter {
  readonly registry: Registry;
  readonly #streams: ReadonlyMap<string, StreamRoutes>;

  constructor(registry: Registry) {
    this.registry = registry;
    this.#streams = buildIndex(registry);
  }

  knowsStream(stream: string): boolean {
    return this.#streams.has(stream);
  }

  /** The stream definition, including implied defaults for streams that features name but the registry does not declare. */
  stream(stream: string): StreamDef | undefined {
    return this.#streams.get(stream)?.def;
  }

  routes(stream: string, topic: string, body: Record<string, unknown>): readonly FeatureMapping[] {
    const streamRoutes = this.#streams.get(stream);
    if (streamRoutes === undefined) return NO_ROUTES;
    const topicRoutes = streamRoutes.topics.get(topic);
    if (topicRoutes === undefined) return NO_ROUTES;
    if (streamRoutes.readSubTopic === undefined || topicRoutes.bySubTopic.size === 0) return topicRoutes.any;
    const sub = streamRoutes.readSubTopic(body);
    if (sub === undefined || sub === null) return topicRoutes.any;
    return topicRoutes.bySubTopic.get(typeof sub === 'string' ? sub : String(sub)) ?? topicRoutes.any;
  }

  identity(event: IncomingEvent, body: Record<string, unknown>): EventIdentity {
    const streamRoutes = this.#streams.get(event.stream);
    return (streamRoutes?.identity ?? ARRIVAL_IDENTITY)(event, body);
  }
}

const ARRIVAL_IDENTITY = compileIdentityReader({ timestampField: undefined, eventIdField: undefined });

const cache = new WeakMap<Registry, Dispatcher>();

/**
 * The dispatcher of a registry, built on first use and cached per Registry object. A reload
 * replaces the Registry object, so the next batch gets a new dispatcher while a batch in flight
 * keeps the one it started with.
 */
export function dispatcherFor(registry: Registry): Dispatcher {
  let dispatcher = cache.get(registry);
  if (dispatcher === undefined) {
    dispatcher = new Dispatcher(registry);
    cache.set(registry, dispatcher);
  }
  return dispatcher;
}

/** A stream that features read but the registry does not declare: the loader's documented defaults. */
export function impliedStream(name: string): StreamDef {
  return defaultStream(name, false);
}

interface MutableTopic {
  any: FeatureMapping[];
  bySubTopic: Map<string, FeatureMapping[]>;
}

function buildIndex(registry: Registry): Map<string, StreamRoutes> {
  const topicsByStream = new Map<string, Map<string, MutableTopic>>();
  for (const name of registry.streams.keys()) topicsByStream.set(name, new Map());

  for (const feature of registry.features) {
    const entity = registry.entities.get(feature.entity) ?? {
      name: feature.entity,
      prefix: `${feature.entity}:`,
      idType: 'string' as const,
      idField: `${feature.entity}_id`,
    };
    for (const binding of feature.events) {
      const stream = registry.streams.get(binding.streamName);
      const mapping = compileMapping({
        entity,
        feature,
        binding,
        entityIdPath: binding.entityIdField ?? stream?.entityIdField ?? entity.idField,
      });
      let topics = topicsByStream.get(binding.streamName);
      if (topics === undefined) topicsByStream.set(binding.streamName, (topics = new Map()));
      let topic = topics.get(binding.topic);
      if (topic === undefined) topics.set(binding.topic, (topic = { any: [], bySubTopic: new Map() }));
      if (binding.subTopic === undefined) {
        topic.any.push(mapping);
      } else {
        let list = topic.bySubTopic.get(binding.subTopic);
        if (list === undefined) topic.bySubTopic.set(binding.subTopic, (list = []));
        list.push(mapping);
      }
    }
  }

  const index = new Map<string, StreamRoutes>();
  for (const [name, topics] of topicsByStream) {
    const def = registry.streams.get(name) ?? impliedStream(name);
    const frozenTopics = new Map<string, TopicRoutes>();
    for (const [topicName, topic] of topics) {
      const any = Object.freeze(topic.any.slice());
      const bySubTopic = new Map<string, readonly FeatureMapping[]>();
      // Topic-wide bindings first, then the sub-topic's own, each in declaration order.
      for (const [sub, list] of topic.bySubTopic) bySubTopic.set(sub, Object.freeze([...any, ...list]));
      frozenTopics.set(topicName, { any, bySubTopic });
    }
    index.set(name, {
      def,
      readSubTopic: def.subTopicField === undefined ? undefined : compilePath(def.subTopicField),
      identity: compileIdentityReader(def),
      topics: frozenTopics,
    });
  }
  return index;
}
