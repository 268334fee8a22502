import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ERROR_CATALOG, isLarderError, LarderError } from '../../errors.ts';
import type { IncomingEvent, IngestReport } from '../../ingest/types.ts';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import { knownStreams } from '../../registry/stream-names.ts';
import { parsePushBody } from '../push-body.ts';

/**
 * The HTTP push source, on top of the in-process ingestor: `POST /v1/streams/:stream/:topic`.
 *
 * The body is one JSON object, a JSON array of objects, or NDJSON (one object per line;
 * `application/x-ndjson`, or `text/plain` with several lines). Each NDJSON line is parsed alone,
 * so a bad line is rejected (and dead-lettered) while the others are ingested. Blank lines are
 * skipped; a rejection's `index` counts events, not lines.
 *
 * The answer comes only after the rows are durable: 200 with
 * `{accepted, filtered, rejected, rejections: [{index, code, message, feature?}], rejectionsByCode,
 * rejectionsOmitted}`: the first 100 rejections one by one, every one counted by code. A request
 * with more events than `maxEvents` is refused whole (413 `LARDER_ERR_LIMIT_EVENTS`) before any is
 * parsed; an event nested deeper than 64 levels is rejected alone (push-body.ts). A body that is
 * not JSON at all is dead-lettered raw and answered 400 `LARDER_ERR_EVENT_PARSE`. An unknown
 * stream is 404 `LARDER_ERR_UNKNOWN_STREAM`; a body over the limit is 413
 * `LARDER_ERR_EVENT_TOO_LARGE`; a store outage is 503 `LARDER_ERR_STORE_UNAVAILABLE` (retry: writes
 * are idempotent). Errors are JSON `{code, message, hint}`, never a stack trace.
 *
 * Default event ids hash the canonical JSON of each event (not the request bytes), so the same
 * event gets the same id whether it came alone, in an array or as an NDJSON line, and when its
 * dead letter is replayed.
 */

export interface HttpPushPluginOptions {
  /** The in-process write path (the ingestor): resolves once the events' rows are durable. */
  readonly ingest: (events: readonly IncomingEvent[]) => Promise<IngestReport>;
  /** The registry whose streams the route accepts. */
  readonly registry: Pick<RegistryHolder, 'current'>;
  /** Largest accepted body in bytes. Default 8 MB. */
  readonly bodyLimit?: number;
  /** Most events in one request (see push-body.ts). Default 10,000. */
  readonly maxEvents?: number;
}

export const DEFAULT_PUSH_BODY_LIMIT = 8 * 1024 * 1024;

/** Rejections listed one by one in an answer; the rest are counted by code. */
export const LISTED_REJECTIONS = 100;

interface PushParams {
  readonly stream: string;
  readonly topic: string;
}

/** The push route, in an encapsulated context of its own (its body parsers stay local to it). */
export const httpPushPlugin = fp<HttpPushPluginOptions>(
  async (app, options) => {
    const { ingest, registry } = options;
    const bodyLimit = options.bodyLimit ?? DEFAULT_PUSH_BODY_LIMIT;
    const maxEvents = options.maxEvents ?? 10_000;
    await app.register(async (scope) => {
      // Keep the raw text of every body: JSON is parsed here, line by line for NDJSON.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
        done(null, body);
      });
      scope.setErrorHandler(sendError);

      scope.post<{ Params: PushParams }>(
        '/v1/streams/:stream/:topic',
        {
          bodyLimit,
          config: { access: 'ingest' },
          onRequest: async (request) => {
            const { stream } = request.params;
            if (!knownStreams(registry.current).has(stream)) {
              throw new LarderError(
                'LARDER_ERR_UNKNOWN_STREAM',
                `stream "${stream}" is not declared in the registry and no feature reads it`,
              );
            }
          },
        },
        async (request, reply) => {
          const { stream, topic } = request.params;
          const text = typeof request.body === 'string' ? request.body : '';
          const parsed = parsePushBody(text, mediaType(request.headers['content-type']), maxEvents);
          const receivedAt = Date.now();
          const bodies = parsed.kind === 'events' ? parsed.bodies : [parsed.body];
          const events: IncomingEvent[] = bodies.map((body) => ({ stream, topic, body, receivedAt }));
          const report = await ingestOrUnavailable(ingest, events);
          const counts = toResponse(report);
          if (parsed.kind === 'unparseable') {
            const error = new LarderError(
              'LARDER_ERR_EVENT_PARSE',
              `request body is not valid JSON: ${parsed.body.error}`,
            );
            return reply
              .status(400)
              .send({ code: error.code, message: error.message, hint: error.hint, ...counts });
          }
          return reply.status(200).send(counts);
        },
      );
    });
  },
  { name: 'larder-http-push' },
);

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function mediaType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return header.split(';', 1)[0]?.trim().toLowerCase();
}

async function ingestOrUnavailable(
  ingest: HttpPushPluginOptions['ingest'],
  events: readonly IncomingEvent[],
): Promise<IngestReport> {
  try {
    return await ingest(events);
  } catch (err) {
    // Nothing was reported as accepted: tell the client to retry (writes are idempotent).
    if (isLarderError(err)) throw err;
    throw new LarderError(
      'LARDER_ERR_STORE_UNAVAILABLE',
      `events were not ingested, retry: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
}

export interface PushAnswer extends Omit<IngestReport, 'results'> {
  /** Every rejection counted by its code; `rejections` lists the first LISTED_REJECTIONS. */
  readonly rejectionsByCode: Readonly<Record<string, number>>;
  /** Rejections counted but not listed. */
  readonly rejectionsOmitted: number;
}

/** The answer: counts, the first rejections one by one, all of them by code. */
function toResponse(report: IngestReport): PushAnswer {
  const byCode: Record<string, number> = {};
  for (const rejection of report.rejections) byCode[rejection.code] = (byCode[rejection.code] ?? 0) + 1;
  return {
    accepted: report.accepted,
    filtered: report.filtered,
    rejected: report.rejected,
    rejections: report.rejections.slice(0, LISTED_REJECTIONS),
    rejectionsByCode: byCode,
    rejectionsOmitted: Math.max(0, report.rejections.length - LISTED_REJECTIONS),
  };
}

function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let error: LarderError;
  if (isLarderError(err)) {
    error = err;
  } else {
    const fastifyError = err as { code?: unknown; statusCode?: unknown; message?: unknown };
    const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
    const message = typeof fastifyError.message === 'string' ? fastifyError.message : 'request failed';
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
      error = new LarderError(
        'LARDER_ERR_EVENT_TOO_LARGE',
        `request body is larger than the limit: ${message}`,
      );
    } else if (status >= 400 && status < 500) {
      error = new LarderError('LARDER_ERR_BAD_REQUEST', message);
    } else {
      error = new LarderError('LARDER_ERR_INTERNAL', 'internal error while ingesting');
    }
  }
  if (error.status >= 500) request.log.error({ err }, 'push: request failed');
  const status = ERROR_CATALOG[error.code].status;
  return reply.status(status).send({ code: error.code, message: error.message, hint: error.hint });
}
