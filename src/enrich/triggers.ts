import { hashEvent } from '../ingest/event-identity.ts';
import { compilePath, isRecord, type PathReader } from '../ingest/event-path.ts';
import { compileFilters, type EventPredicate } from '../ingest/filter.ts';
import type { Ingestor } from '../ingest/ingestor-contract.ts';
import type { IncomingEvent, IngestReport } from '../ingest/types.ts';
import type { RegistryHolder } from '../registry/registry-holder.ts';
import type { EnricherDef, Registry } from '../registry/types.ts';
import type { InvocationQueue, NewInvocation } from './invocation-queue.ts';
import { triggeredInvocationId } from './invocation-ids.ts';

/** One enricher's trigger, compiled: which events of its topic it takes and what it passes on. */
interface CompiledTrigger {
  readonly enricher: string;
  readonly subTopic: string | undefined;
  readonly accepts: EventPredicate;
  readonly input: (body: Record<string, unknown>) => Record<string, unknown>;
}

interface StreamTriggers {
  readonly readSubTopic: PathReader | undefined;
  readonly readEventId: PathReader | undefined;
  readonly byTopic: ReadonlyMap<string, readonly CompiledTrigger[]>;
}

/**
 * Which enrichers an event starts, for one registry: `(stream, topic)` to the triggers there, then
 * the sub-topic (read with the stream's `subTopicField`, as the dispatcher does) and the filter.
 * Built once per registry object.
 */
export class TriggerIndex {
  readonly #streams: ReadonlyMap<string, StreamTriggers>;

  constructor(registry: Registry) {
    const byStream = new Map<string, Map<string, CompiledTrigger[]>>();
    for (const def of registry.enrichers.values()) {
      if (def.trigger === undefined) continue;
      let topics = byStream.get(def.trigger.streamName);
      if (topics === undefined) byStream.set(def.trigger.streamName, (topics = new Map()));
      const list = topics.get(def.trigger.topic) ?? [];
      list.push(compileTrigger(def));
      topics.set(def.trigger.topic, list);
    }
    const streams = new Map<string, StreamTriggers>();
    for (const [name, byTopic] of byStream) {
      const stream = registry.streams.get(name);
      streams.set(name, {
        readSubTopic: stream?.subTopicField === undefined ? undefined : compilePath(stream.subTopicField),
        readEventId: stream?.eventIdField === undefined ? undefined : compilePath(stream.eventIdField),
        byTopic,
      });
    }
    this.#streams = streams;
  }

  get empty(): boolean {
    return this.#streams.size === 0;
  }

  /** The invocations one event starts, by enricher: ids derived from the event's id. */
  invocations(
    event: IncomingEvent,
    body: Record<string, unknown>,
  ): { enricher: string; invocation: NewInvocation }[] {
    const stream = this.#streams.get(event.stream);
    const triggers = stream?.byTopic.get(event.topic);
    if (stream === undefined || triggers === undefined) return [];
    const rawSub = stream.readSubTopic?.(body);
    const subTopic = rawSub === undefined || rawSub === null ? undefined : String(rawSub);
    let eventId: string | undefined;
    const out: { enricher: string; invocation: NewInvocation }[] = [];
    for (const trigger of triggers) {
      if (trigger.subTopic !== undefined && trigger.subTopic !== subTopic) continue;
      if (!trigger.accepts(body)) continue;
      eventId ??= readEventId(stream, event, body);
      out.push({
        enricher: trigger.enricher,
        invocation: { id: triggeredInvocationId(trigger.enricher, eventId), input: trigger.input(body) },
      });
    }
    return out;
  }
}

const indexes = new WeakMap<Registry, TriggerIndex>();

export function triggersFor(registry: Registry): TriggerIndex {
  let index = indexes.get(registry);
  if (index === undefined) indexes.set(registry, (index = new TriggerIndex(registry)));
  return index;
}

/**
 * Wraps the write path so that every event it takes also starts the enrichers it triggers,
 * whatever brought it (an HTTP push, a broker consumer, a dead-letter replay, another enricher's
 * result). The invocations are queued alongside the event's own writes, and the batch resolves
 * only once both are durable, so an event acknowledged to its source has its invocations queued;
 * a batch that fails and is retried queues nothing twice (the ids come from the event ids).
 *
 * An event's trigger does not depend on what features made of it: an event one feature rejected
 * still starts its enrichers.
 */
export function withTriggers(
  inner: Ingestor,
  options: { readonly registry: RegistryHolder; readonly queue: InvocationQueue },
): Ingestor {
  return {
    async ingest(events, ingestOptions): Promise<IngestReport> {
      const index = triggersFor(options.registry.current);
      if (index.empty) return inner.ingest(events, ingestOptions);
      const byEnricher = new Map<string, NewInvocation[]>();
      for (const event of events) {
        if (!isRecord(event.body)) continue;
        for (const { enricher, invocation } of index.invocations(event, event.body)) {
          const list = byEnricher.get(enricher);
          if (list === undefined) byEnricher.set(enricher, [invocation]);
          else list.push(invocation);
        }
      }
      // The writes and the puts at once: on LMDB they share a commit (and its flush to disk).
      const [report] = await Promise.all([
        inner.ingest(events, ingestOptions),
        ...[...byEnricher].map(([enricher, list]) => options.queue.put(enricher, list)),
      ]);
      return report;
    },
  };
}

function compileTrigger(def: EnricherDef): CompiledTrigger {
  const readers = def.input.map((field) => ({ name: field.name, read: compilePath(field.path) }));
  return {
    enricher: def.name,
    subTopic: def.trigger?.subTopic,
    accepts: compileFilters(def.trigger?.filter ?? []),
    // No `input:` mapping: the handler gets the whole event.
    input:
      readers.length === 0
        ? (body) => body
        : (body) => {
            const input: Record<string, unknown> = {};
            for (const { name, read } of readers) input[name] = read(body) ?? null;
            return input;
          },
  };
}

/** The trigger event's id, as the ingestor reads it: the stream's eventIdField, else a hash. */
function readEventId(stream: StreamTriggers, event: IncomingEvent, body: Record<string, unknown>): string {
  const raw = stream.readEventId?.(body);
  if (typeof raw === 'string' && raw !== '') return raw;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  return hashEvent(event.bytes, body);
}
