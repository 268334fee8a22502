import type { FastifyInstance } from 'fastify';
import { LarderError } from '../../errors.ts';
import type { DeadLetterStore } from '../../store/dead-letters.ts';
import type { DeadLetterReplay } from './admin-sources.ts';
import { detail, listDeadLetters, matchingIds, type DeadLetterFilter } from './dead-letter-query.ts';
import { ADMIN, pageQuery, READ, unavailable } from './route-parts.ts';

const filterProperties = {
  stream: { type: 'string', maxLength: 200 },
  code: { type: 'string', maxLength: 200 },
  feature: { type: 'string', maxLength: 400 },
} as const;

/**
 * The local dead-letter table: `GET /v1/admin/dlq` (oldest first, filtered by stream, code and
 * feature, with facets), `GET /v1/admin/dlq/:id`, and `POST /v1/admin/dlq/replay` (admin) with
 * `{"ids": [...]}` or `{"filter": {...}}`, which runs the same code as `larder dlq replay`.
 */
export function dlqRoutes(
  app: FastifyInstance,
  table: DeadLetterStore,
  replay: DeadLetterReplay | undefined,
): void {
  app.get(
    '/v1/admin/dlq',
    {
      config: READ,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...filterProperties, ...pageQuery.cursor('after') },
        },
      },
    },
    async (request) => {
      const { after, limit, ...filter } = request.query as DeadLetterFilter & {
        after?: string;
        limit: number;
      };
      return listDeadLetters(table, nonEmpty(filter), {
        limit,
        ...(after === undefined || after === '' ? {} : { after }),
      });
    },
  );

  app.get('/v1/admin/dlq/:id', { config: READ }, async (request) => {
    const { id } = request.params as { id: string };
    const entry = await table.get(id);
    if (entry === undefined)
      throw new LarderError('LARDER_ERR_DEAD_LETTER_NOT_FOUND', `no dead letter with id ${id}`);
    return detail(entry);
  });

  app.post(
    '/v1/admin/dlq/replay',
    {
      config: ADMIN,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ids: { type: 'array', maxItems: 10_000, items: { type: 'string', maxLength: 200 } },
            filter: { type: 'object', additionalProperties: false, properties: filterProperties },
          },
        },
      },
    },
    async (request) => {
      if (replay === undefined) throw unavailable('dead-letter replay (no ingestor)');
      const body = request.body as { ids?: string[]; filter?: DeadLetterFilter };
      if ((body.ids === undefined) === (body.filter === undefined)) {
        throw new LarderError(
          'LARDER_ERR_BAD_ARGUMENT',
          'send either "ids" or "filter" (an empty filter replays every dead letter)',
        );
      }
      const ids = body.ids ?? (await matchingIds(table, nonEmpty(body.filter ?? {})));
      return replay.replay(ids);
    },
  );
}

/** Drops empty strings: a form's blank select means "any". */
function nonEmpty(filter: DeadLetterFilter): DeadLetterFilter {
  return Object.fromEntries(
    Object.entries(filter).filter(([, v]) => v !== undefined && v !== ''),
  ) as DeadLetterFilter;
}
