import cluster from 'node:cluster';
import fp from 'fastify-plugin';
import { ERROR_CATALOG } from '../../errors.ts';
import type { OnlineStore } from '../../store/online-store.ts';

/** How long `/readyz` waits for the store's ping before calling it unreachable. */
const PING_TIMEOUT_MS = 1_000;

export interface HealthPluginOptions {
  /** Version of the registry whose schema is in force; undefined until one is. */
  readonly registryVersion: () => string | undefined;
  readonly store: OnlineStore;
}

/**
 * `GET /healthz`: the process is alive and serving HTTP.
 * `GET /readyz`: a registry is loaded and the store answers its ping; 503 otherwise, so a load
 * balancer stops routing here without the process being restarted.
 */
export const healthPlugin = fp<HealthPluginOptions>(
  async (app, source) => {
    // In a `--workers N` cluster, which worker answered (1..N, restarts count up), for operators.
    const worker = cluster.isWorker ? cluster.worker?.id : undefined;
    app.get('/healthz', async () => (worker === undefined ? { status: 'ok' } : { status: 'ok', worker }));

    app.get('/readyz', async (_request, reply) => {
      const registryVersion = source.registryVersion();
      const storeOk = await pingWithTimeout(source.store);
      if (registryVersion !== undefined && storeOk) return { status: 'ready', registryVersion };
      const why =
        registryVersion === undefined
          ? 'no registry is loaded'
          : `the ${source.store.name} store is unreachable`;
      return reply.code(503).send({
        code: 'LARDER_ERR_NOT_READY',
        message: `not ready: ${why}`,
        hint: ERROR_CATALOG.LARDER_ERR_NOT_READY.hint,
        registry: registryVersion !== undefined,
        store: storeOk,
      });
    });
  },
  { name: 'larder-health' },
);

async function pingWithTimeout(store: OnlineStore): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([store.ping().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
