import type { FastifyInstance } from 'fastify';
import { LarderError } from '../../errors.ts';
import type { JobsAdmin } from './admin-sources.ts';
import type { JobStateName } from './admin-types.ts';
import { ADMIN, pageQuery, READ, unavailable } from './route-parts.ts';

const STATES: readonly JobStateName[] = ['queued', 'runnable', 'running', 'succeeded', 'failed', 'cancelled'];

/**
 * `GET /v1/admin/jobs` (newest first, by cursor), `GET /v1/admin/jobs/:id`, and the actions
 * `POST /v1/admin/jobs/:id/retry|cancel`, which need an admin key and run the same code as
 * `larder jobs retry|cancel`.
 */
export function jobsRoutes(app: FastifyInstance, jobs: JobsAdmin | undefined): void {
  const need = (): JobsAdmin => {
    if (jobs === undefined) throw unavailable('batch jobs (no job store)');
    return jobs;
  };

  app.get(
    '/v1/admin/jobs',
    {
      config: READ,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', maxLength: 200 },
            ingestion: { type: 'string', maxLength: 200 },
            q: { type: 'string', maxLength: 200 },
            ...pageQuery.cursor('before'),
          },
        },
      },
    },
    async (request) => {
      const query = request.query as {
        state?: string;
        ingestion?: string;
        q?: string;
        before?: string;
        limit: number;
      };
      const states = query.state?.split(',').filter((s) => s !== '');
      for (const state of states ?? []) {
        if (!STATES.includes(state as JobStateName)) {
          throw new LarderError(
            'LARDER_ERR_BAD_ARGUMENT',
            `state must be one of ${STATES.join(', ')}; got "${state}"`,
          );
        }
      }
      return need().list({
        limit: query.limit,
        ...(states === undefined || states.length === 0 ? {} : { states: states as JobStateName[] }),
        ...(query.ingestion === undefined || query.ingestion === '' ? {} : { ingestion: query.ingestion }),
        ...(query.q === undefined || query.q === '' ? {} : { q: query.q }),
        ...(query.before === undefined || query.before === '' ? {} : { before: query.before }),
      });
    },
  );

  app.get('/v1/admin/jobs/:id', { config: READ }, async (request) => {
    const { id } = request.params as { id: string };
    const job = await need().get(id);
    if (job === undefined) throw new LarderError('LARDER_ERR_BATCH_JOB_NOT_FOUND', `no job with id ${id}`);
    return job;
  });

  app.post('/v1/admin/jobs/:id/retry', { config: ADMIN }, async (request) => {
    const { id } = request.params as { id: string };
    return need().retry(id);
  });

  app.post('/v1/admin/jobs/:id/cancel', { config: ADMIN }, async (request) => {
    const { id } = request.params as { id: string };
    return need().cancel(id);
  });
}
