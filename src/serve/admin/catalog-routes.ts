import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { FeatureActivity } from './admin-sources.ts';
import { searchCatalog, type CatalogQuery } from './feature-catalog.ts';
import { featureDetail } from './feature-detail.ts';
import { pageQuery, READ } from './route-parts.ts';

export interface CatalogRoutesOptions {
  readonly registry: Pick<RegistryHolder, 'current'>;
  readonly schema: () => GraphQLSchema;
  readonly activity: FeatureActivity | undefined;
  readonly auth: boolean;
}

const text = { type: 'string', maxLength: 500 } as const;

/**
 * `GET /v1/admin/features`: the catalog, searched and cut into pages on the server.
 * `GET /v1/admin/features/:entity/:feature`: one feature's spec, types, sources and freshness.
 */
export function catalogRoutes(app: FastifyInstance, options: CatalogRoutesOptions): void {
  app.get(
    '/v1/admin/features',
    {
      config: READ,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            q: text,
            entity: text,
            stream: text,
            type: text,
            owner: text,
            tag: text,
            ...pageQuery.offset,
          },
        },
      },
    },
    async (request) =>
      searchCatalog(options.registry.current, request.query as CatalogQuery, options.activity),
  );

  app.get('/v1/admin/features/:entity/:feature', { config: READ }, async (request) => {
    const { entity, feature } = request.params as { entity: string; feature: string };
    return featureDetail(
      {
        registry: options.registry.current,
        schema: options.schema(),
        activity: options.activity,
        origin: `${request.protocol}://${request.host}`,
        auth: options.auth,
      },
      entity,
      feature,
    );
  });
}
