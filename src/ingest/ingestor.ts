import type { Logger } from 'pino';
import { isLarderError } from '../errors.ts';
import type { RegistryHolder } from '../registry/registry-holder.ts';
import type { Registry } from '../registry/types.ts';
import type { OnlineStore, StoreWrite } from '../store/online-store.ts';
import type { DeadLetterStore, NewDeadLetter } from '../store/dead-letters.ts';
import { dispatcherFor, type EventRouter } from './dispatcher.ts';
import { deepJsonText } from './deep-json.ts';
import { depthProblem } from './event-bounds.ts';
import type { EventIdentity } from './event-identity.ts';
import { isRecord } from './event-path.ts';
import type { Ingestor } from './ingestor-contract.ts';
import type { EventResult, IncomingEvent, IngestReport, Rejection } from './types.ts';
import { UnparseableBody } from './unparseable.ts';

/** Running totals since the ingestor was created, for metrics. Events are counted by outcome. */
export interface IngestCounters {
  readonly batches: number;
  readonly written: number;
  readonly filtered: number;
  readonly rejected: number;
  /** Store writes (one event can produce several). */
  readonly writes: number;
  readonly deadLettered: number;
}

export interface InProcessIngestor extends Ingestor {
  /** A live view of the counters; read it, never write it. */
  readonly counters: IngestCounters;
}

export interface IngestorOptions {
  readonly registry: RegistryHolder;
  readonly store: OnlineStore;
  readonly deadLetters: DeadLetterStore;
  readonly logger?: Logger;
  /** How events are routed; the registry's dispatcher unless a source (a batch job) brings its own. */
  readonly router?: (registry: Registry) => EventRouter;
  /** Written into each dead letter's `origin` when `ingest` is given none. Default `ingest`. */
  readonly defaultOrigin?: string;
}

const NO_REJECTIONS: readonly Rejection[] = Object.freeze([]);

const FILTERED: EventResult = Object.freeze({
  outcome: 'filtered',
  writes: 0,
  rejections: NO_REJECTIONS,
});

/** Shared results of events that wrote 1..8 times: most events, so none allocates its own. */
const WRITTEN: readonly EventResult[] = Array.from({ length: 9 }, (_, writes) =>
  Object.freeze({ outcome: 'written' as const, writes, rejections: NO_REJECTIONS }),
);

function written(writes: number): EventResult {
  return WRITTEN[writes] ?? { outcome: 'written', writes, rejections: NO_REJECTIONS };
}

/**
 * Creates the in-process write path shared by every source. For each batch it:
 *
 * 1. reads `registry.current` once, so a reload mid-batch never mixes two registries;
 * 2. dispatches and maps every event (a bad event is rejected alone, never stopping the batch);
 * 3. writes all resulting writes in ONE `store.write` call, in batch order;
 * 4. adds every rejected event to the dead-letter table with its reasons;
 * 5. resolves the report, once the writes and the dead letters are durable.
 *
 * An event is `rejected` when any feature rejected it (the other features' writes still apply:
 * writes are idempotent, so replaying the dead letter is safe), `written` when it produced writes,
 * and `filtered` otherwise, including events that no feature reads.
 *
 * If the store or the dead-letter table fails, the promise rejects and nothing is reported: the
 * caller retries the whole batch (idempotent), and good events are never dead-lettered because
 * of an outage.
 */
export function createIngestor(options: IngestorOptions): InProcessIngestor {
  const { registry, store, deadLetters, logger } = options;
  const routerFor = options.router ?? dispatcherFor;
  const defaultOrigin = options.defaultOrigin ?? 'ingest';
  const counters = { batches: 0, written: 0, filtered: 0, rejected: 0, writes: 0, deadLettered: 0 };

  async function ingest(
    events: readonly IncomingEvent[],
    ingestOptions?: { readonly origin?: string },
  ): Promise<IngestReport> {
    const router = routerFor(registry.current);
    const writes: StoreWrite[] = [];
    const results: EventResult[] = new Array<EventResult>(events.length);
    const rejectedIndexes: number[] = [];

    for (let index = 0; index < events.length; index++) {
      const event = events[index] as IncomingEvent;
      const result = processEvent(router, event, writes, logger);
      results[index] = result;
      if (result.outcome === 'rejected') rejectedIndexes.push(index);
    }

    if (writes.length > 0) await store.write(writes);

    const origin = ingestOptions?.origin ?? defaultOrigin;
    if (rejectedIndexes.length > 0) {
      const entries = rejectedIndexes.map((index) =>
        toDeadLetter(events[index] as IncomingEvent, (results[index] as EventResult).rejections, origin),
      );
      await deadLetters.add(entries);
    }

    const report = buildReport(results, rejectedIndexes);
    counters.batches += 1;
    counters.written += report.accepted;
    counters.filtered += report.filtered;
    counters.rejected += report.rejected;
    counters.writes += writes.length;
    counters.deadLettered += rejectedIndexes.length;
    if (report.rejected > 0) {
      const first = report.rejections[0];
      logger?.warn(
        {
          rejected: report.rejected,
          batch: events.length,
          firstCode: first?.code,
          firstReason: first?.message,
        },
        'ingest: events rejected and dead-lettered',
      );
    }
    return report;
  }

  return { ingest, counters };
}

/** Maps one event through every route; appends its writes to `writes`. Never throws. */
function processEvent(
  router: EventRouter,
  event: IncomingEvent,
  writes: StoreWrite[],
  logger: Logger | undefined,
): EventResult {
  const body = event.body;
  if (body instanceof UnparseableBody) {
    return reject({ code: 'LARDER_ERR_EVENT_PARSE', message: `event is not valid JSON: ${body.error}` });
  }
  if (!isRecord(body)) {
    const kind = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    return reject({
      code: 'LARDER_ERR_EVENT_NOT_OBJECT',
      message: `event must be a JSON object, got ${kind}`,
    });
  }
  const tooDeep = depthProblem(body);
  if (tooDeep !== undefined) return reject({ code: 'LARDER_ERR_EVENT_TOO_DEEP', message: tooDeep });
  if (!router.knowsStream(event.stream)) {
    return reject({
      code: 'LARDER_ERR_UNKNOWN_STREAM',
      message: `stream "${event.stream}" is not declared and no feature reads it`,
    });
  }
  const routes = router.routes(event.stream, event.topic, body);
  if (routes.length === 0) return FILTERED;

  const firstWrite = writes.length;
  const rejections: Rejection[] = [];
  try {
    const identity: EventIdentity = router.identity(event, body);
    for (const route of routes) {
      const outcome = route.map(body, identity);
      if (outcome.outcome === 'written') writes.push(outcome.write);
      else if (outcome.outcome === 'rejected') rejections.push(outcome.rejection);
    }
  } catch (err) {
    // A LarderError here is the event's own fault (its timestamp). Anything else is a bug that this
    // event triggers: it is rejected too, so that one event can never wedge a consumer in retries.
    if (isLarderError(err)) {
      rejections.push({ code: err.code, message: err.message });
    } else {
      logger?.error(
        { err, stream: event.stream, topic: event.topic },
        'ingest: unexpected error mapping an event',
      );
      rejections.push({ code: 'LARDER_ERR_INTERNAL', message: `internal error: ${String(err)}` });
    }
  }
  const produced = writes.length - firstWrite;
  if (rejections.length > 0) return { outcome: 'rejected', writes: produced, rejections };
  return produced > 0 ? written(produced) : FILTERED;
}

function reject(rejection: Rejection): EventResult {
  return { outcome: 'rejected', writes: 0, rejections: [rejection] };
}

/** One dead letter per rejected event, carrying every reason, so a replay re-ingests it once. */
function toDeadLetter(event: IncomingEvent, rejections: readonly Rejection[], origin: string): NewDeadLetter {
  const first = rejections[0] ?? { code: 'LARDER_ERR_INTERNAL', message: 'rejected' };
  const features = [...new Set(rejections.flatMap((r) => (r.feature === undefined ? [] : [r.feature])))];
  // A too-deep body is kept as text: the dead-letter table's encoder would run out of stack.
  const unparsed =
    event.body instanceof UnparseableBody
      ? event.body.raw
      : first.code === 'LARDER_ERR_EVENT_TOO_DEEP'
        ? textOf(event)
        : undefined;
  const raw =
    unparsed ??
    (event.bytes === undefined
      ? undefined
      : typeof event.bytes === 'string'
        ? event.bytes
        : Buffer.from(event.bytes).toString('utf8'));
  return {
    stream: event.stream,
    topic: event.topic,
    body: unparsed ?? event.body,
    raw,
    code: first.code,
    reason: rejections
      .map((r) => (r.feature === undefined ? r.message : `${r.feature}: ${r.message}`))
      .join('; '),
    feature: features.length === 0 ? undefined : features.join(','),
    origin,
    attempts: 1,
  };
}

/** The event's text: its bytes, else its JSON, written without recursion. */
function textOf(event: IncomingEvent): string {
  if (event.bytes === undefined) return deepJsonText(event.body);
  return typeof event.bytes === 'string' ? event.bytes : Buffer.from(event.bytes).toString('utf8');
}

function buildReport(results: readonly EventResult[], rejectedIndexes: readonly number[]): IngestReport {
  let accepted = 0;
  let filtered = 0;
  for (const result of results) {
    if (result.outcome === 'written') accepted++;
    else if (result.outcome === 'filtered') filtered++;
  }
  const rejections = rejectedIndexes.map((index) => {
    const first = (results[index] as EventResult).rejections[0] as Rejection;
    const entry: { index: number; code: string; message: string; feature?: string } = {
      index,
      code: first.code,
      message: first.message,
    };
    if (first.feature !== undefined) entry.feature = first.feature;
    return entry;
  });
  return { accepted, filtered, rejected: rejectedIndexes.length, rejections, results };
}
