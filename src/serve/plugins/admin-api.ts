import { readFileSync } from 'node:fs';
import fp from 'fastify-plugin';
import type { GraphQLSchema } from 'graphql';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { SpecIssue } from '../../registry/types.ts';
import type { DeadLetterStore } from '../../store/dead-letters.ts';
import type { AdminSources } from '../admin/admin-sources.ts';
import type { ConsoleInfo, RegistryStatusView, SpecIssueView } from '../admin/admin-types.ts';
import { catalogRoutes } from '../admin/catalog-routes.ts';
import { dlqRoutes } from '../admin/dlq-routes.ts';
import { jobsRoutes } from '../admin/jobs-routes.ts';
import { ADMIN, READ, unavailable } from '../admin/route-parts.ts';
import { KeyRing, presentedKey, type AuthConfig } from '../auth.ts';

export interface AdminApiPluginOptions {
  readonly registry: Pick<RegistryHolder, 'current'>;
  /** The serving schema in force (it follows the registry). */
  readonly schema: () => GraphQLSchema;
  readonly deadLetters: DeadLetterStore;
  readonly auth: AuthConfig;
  readonly sources: AdminSources;
}

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The admin API under `/v1/admin/`, which the web console reads and scripts can use too
 * (docs/admin-api.md): the feature catalog, stream history, batch jobs, dead letters and the
 * registry status. Reads need a read key; retry, cancel and replay an admin key. Each route
 * declares its access in its config.
 */
export const adminApiPlugin = fp<AdminApiPluginOptions>(
  async (app, options) => {
    const { registry, sources, auth } = options;
    const ring = new KeyRing(auth);

    app.get('/v1/admin/info', { config: READ }, async (request): Promise<ConsoleInfo> => {
      return {
        version: VERSION,
        registryVersion: registry.current.version,
        auth: auth.enabled,
        access: auth.enabled ? ring.accessOf(presentedKey(request)) : 'admin',
        jobs: sources.jobs !== undefined,
        streams: sources.streams !== undefined,
      };
    });

    app.get('/v1/admin/registry', { config: READ }, async (): Promise<RegistryStatusView> => {
      const current = registry.current;
      return {
        version: current.version,
        dir: current.dir,
        counts: {
          entities: current.entities.size,
          streams: current.streams.size,
          features: current.features.length,
          ingestions: current.ingestions.size,
        },
        warnings: current.warnings.map(issueView),
        ...(sources.registry?.status() ?? { appliedAt: null, lastRefused: null }),
        refused: sources.registry?.refusal?.() ?? null,
        rollout: (await sources.registry?.rollout?.()) ?? null,
      };
    });

    // What `larder plan --against <url>` plans over: the applied version's files, the persisted queries.
    app.get('/v1/admin/registry/applied', { config: READ }, async () => {
      const applied = sources.registry?.appliedVersion;
      if (applied === undefined) throw unavailable('the applied registry version');
      return applied();
    });

    // A webhook target: the registry source is pulled now instead of at the next poll.
    app.post('/v1/admin/registry/refresh', { config: ADMIN }, async () => {
      const refresh = sources.registry?.refresh;
      if (refresh === undefined) throw unavailable('a registry source to refresh');
      const pulled = await refresh();
      return {
        source: pulled,
        version: registry.current.version,
        refused: sources.registry?.refusal?.() ?? null,
      };
    });

    app.get('/v1/admin/streams', { config: READ }, async () => {
      if (sources.streams === undefined) throw unavailable('stream history');
      return sources.streams.report();
    });

    catalogRoutes(app, {
      registry,
      schema: options.schema,
      activity: sources.features,
      auth: auth.enabled,
    });
    jobsRoutes(app, sources.jobs);
    dlqRoutes(app, options.deadLetters, sources.deadLetters);
  },
  { name: 'larder-admin-api', dependencies: ['larder-auth'] },
);

function issueView(issue: SpecIssue): SpecIssueView {
  return { ...issue };
}
