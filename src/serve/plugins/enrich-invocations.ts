import fp from 'fastify-plugin';
import type { Enrichments } from '../../enrich/enrichments-contract.ts';

export interface EnrichInvocationsPluginOptions {
  readonly enrichments: Enrichments;
}

interface InvocationParams {
  readonly name: string;
  readonly id: string;
}

/**
 * HTTP invocation of enrichers (docs/enrichment.md):
 *
 * - `POST /v1/enrichers/:name/invocations` with the handler's input as a JSON object: the
 *   invocation is queued durably and answered `202 {id, enricher, state, status}` at once; the
 *   handler runs later, on a worker. Needs an `ingest` key, like pushing events.
 * - `GET /v1/enrichers/:name/invocations/:id`: its state (queued, running, succeeded, failed,
 *   dead), attempts, and its result or last error. Needs a `read` key.
 *
 * An unknown enricher is 404 `LARDER_ERR_ENRICH_UNKNOWN_ENRICHER`, an unknown id 404
 * `LARDER_ERR_ENRICH_NOT_FOUND`, a body that is not one JSON object 400 `LARDER_ERR_ENRICH_INPUT`.
 */
export const enrichInvocationsPlugin = fp<EnrichInvocationsPluginOptions>(
  async (app, { enrichments }) => {
    app.post<{ Params: Pick<InvocationParams, 'name'>; Body: unknown }>(
      '/v1/enrichers/:name/invocations',
      { config: { access: 'ingest' } },
      async (request, reply) => {
        const { name } = request.params;
        const { id } = await enrichments.invoke(name, request.body);
        const status = `/v1/enrichers/${encodeURIComponent(name)}/invocations/${encodeURIComponent(id)}`;
        return reply
          .status(202)
          .header('location', status)
          .send({ id, enricher: name, state: 'queued', status });
      },
    );
    app.get<{ Params: InvocationParams }>(
      '/v1/enrichers/:name/invocations/:id',
      { config: { access: 'read' } },
      async (request) => enrichments.status(request.params.name, request.params.id),
    );
  },
  { name: 'larder-enrich-invocations' },
);
