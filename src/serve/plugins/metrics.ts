import fp from 'fastify-plugin';
import type { Access } from '../auth.ts';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import { clusterMetrics, shareMetricsWithPrimary } from '../cluster.ts';
import { operationNameOf } from '../graphql-body.ts';
import type { ServeMetrics } from '../metrics.ts';

export interface MetricsPluginOptions {
  readonly metrics: ServeMetrics;
  /** The registry whose version `larder_registry_info` shows. */
  readonly registry: RegistryHolder;
  /** Who may read `GET /metrics`: `read`, or `public` for scrapers inside a trusted network. */
  readonly access: Extract<Access, 'public' | 'read'>;
}

/**
 * Prometheus metrics (see ../metrics.ts): per request, its latency by operation and, from the
 * request's loader (`request.larder`), the rows, features and hot-cache lookups it served; and
 * `GET /metrics`, which in a `--workers N` cluster covers every worker.
 */
export const metricsPlugin = fp<MetricsPluginOptions>(
  async (app, { metrics, registry, access }) => {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url;
      if (route === '/metrics' || route === '/healthz' || route === '/readyz') return done();
      const state = request.larder;
      const operation =
        route === '/graphql'
          ? metrics.operationLabel(state?.operationName ?? operationNameOf(request.body))
          : route === '/v1/features'
            ? 'rest_features'
            : (route ?? 'unknown');
      metrics.observeRequest(operation, reply.statusCode, reply.elapsedTime / 1000);
      if (state !== null) {
        const loader = state.loader;
        metrics.recordServed(loader.rowsServed, loader.featuresServed);
        if (loader.hotHits + loader.hotMisses > 0)
          metrics.recordCache('hot', loader.hotHits, loader.hotMisses);
        if (loader.hotRowHits + loader.hotRowMisses > 0)
          metrics.recordCache('hot_rows', loader.hotRowHits, loader.hotRowMisses);
      }
      done();
    });

    // In a `--workers N` cluster, the primary collects every worker's registry for `/metrics`.
    shareMetricsWithPrimary(metrics.registries);
    metrics.setRegistryVersion(registry.current.version);
    const unsubscribe = registry.onChange((next) => metrics.setRegistryVersion(next.version));
    app.addHook('onClose', async () => unsubscribe());

    app.get('/metrics', { config: { access } }, async (_request, reply) => {
      const aggregated = clusterMetrics();
      const body = aggregated === undefined ? (await metrics.render()).body : await aggregated;
      return reply.header('content-type', metrics.registry.contentType).send(body);
    });
  },
  { name: 'larder-metrics', dependencies: ['larder-request-state'] },
);
