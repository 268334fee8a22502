import cluster from 'node:cluster';
import fp from 'fastify-plugin';
import { ERROR_CATALOG } from '../../errors.ts';
import type { OnlineStore } from '../../store/online-store.ts';

/** How long `/readyz` waits for the store's ping (and write check) before calling it failed. */
const PING_TIMEOUT_MS = 1_000;

export interface HealthPluginOptions {
  /** Version of the registry whose schema is in force; undefined until one is. */
  readonly registryVersion: () => string | undefined;
  readonly store: OnlineStore;
  /** The breaking registry change this process refuses (the running version stays), shown on `/healthz`. */
  readonly registryRefused?: () => { readonly version: string; readonly reason: string } | null;
}

/**
 * `GET /healthz`: the process is alive and serving HTTP.
 * `GET /readyz`: a registry is loaded, the store answers its ping and can write (no full disk);
 * 503 otherwise, with the reason, so a load balancer stops routing here without the process
 * being restarted. Reads are still served meanwhile; readiness comes back once the cause clears.
 */
export const healthPlugin = fp<HealthPluginOptions>(
  async (app, source) => {
    // In a `--workers N` cluster, which worker answered (1..N, restarts count up), for operators.
    const worker = cluster.isWorker ? cluster.worker?.id : undefined;
    app.get('/healthz', { config: { access: 'public' } }, async () => {
      const refused = source.registryRefused?.() ?? null;
      const registry =
        refused === null ? {} : { registryRefused: { version: refused.version, reason: refused.reason } };
      return worker === undefined ? { status: 'ok', ...registry } : { status: 'ok', worker, ...registry };
    });

    app.get('/readyz', { config: { access: 'public' } }, async (_request, reply) => {
      const registryVersion = source.registryVersion();
      const storeOk = await withTimeout(
        source.store.ping().catch(() => false),
        false,
      );
      const writeProblem = storeOk
        ? await withTimeout(
            (source.store.writeProblem?.() ?? Promise.resolve(undefined)).catch(String),
            'its write check did not answer in time',
          )
        : undefined;
      if (registryVersion !== undefined && storeOk && writeProblem === undefined) {
        return { status: 'ready', registryVersion };
      }
      const why =
        registryVersion === undefined
          ? 'no registry is loaded'
          : !storeOk
            ? `the ${source.store.name} store is unreachable`
            : `the ${source.store.name} store cannot take writes: ${writeProblem}`;
      return reply.code(503).send({
        code: 'LARDER_ERR_NOT_READY',
        message: `not ready: ${why}`,
        hint: ERROR_CATALOG.LARDER_ERR_NOT_READY.hint,
        registry: registryVersion !== undefined,
        store: storeOk,
        writes: storeOk && writeProblem === undefined,
      });
    });
  },
  { name: 'larder-health' },
);

/** `check`'s answer, or `late` when it takes longer than PING_TIMEOUT_MS. */
async function withTimeout<T>(check: Promise<T>, late: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late), PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
