import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * `larder serve --workers N`: N processes (node `cluster`) sharing one listening port. The primary
 * only supervises: it forks the workers, restarts one that dies, forwards SIGTERM/SIGINT, and
 * answers the workers' requests for cluster-wide metrics (so `/metrics`, whichever worker serves
 * it, covers every worker). A worker that could not start (`WORKER_START_FAILED`) stops them all:
 * the primary exits 1 instead of restarting workers that would fail the same way.
 */
export interface ClusterOptions {
  /** Number of worker processes. */
  readonly workers: number;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** A worker that dies this soon after its start counts as a failed start. Default 5 s. */
  readonly minUptimeMs?: number;
  /** The primary gives up after this many failed starts in a row. Default 5. */
  readonly maxFailedStarts?: number;
}

/** The default `--workers`: the number of cores. */
export function defaultWorkerCount(): number {
  return Math.max(
    1,
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
  );
}

/**
 * The exit code of a worker that could not start (the port in use, a store that does not open, a
 * registry or config it refuses). Such a failure repeats in every new worker, so the primary does
 * not restart it: it stops the others and exits non-zero. The worker printed the error itself.
 */
export const WORKER_START_FAILED = 78;

const METRICS_REQ = 'larder:cluster-metrics-req';
const FORGET = 'larder:hot-forget';
const METRICS_RES = 'larder:cluster-metrics-res';

/**
 * Runs `startWorker` in N workers. In the primary it resolves with the exit code once every worker
 * has stopped (after a signal, or after repeated failed starts); in a worker it runs `startWorker`
 * and resolves when that does. With `workers <= 1` it runs `startWorker` in this process.
 *
 * Call it from the CLI like this:
 * ```ts
 * const code = await runClustered({ workers, logger }, () => startServer(options));
 * if (cluster.isPrimary && workers > 1) process.exit(code);
 * ```
 */
export async function runClustered(
  options: ClusterOptions,
  startWorker: () => Promise<void>,
): Promise<number> {
  if (options.workers <= 1 || cluster.isWorker) {
    await startWorker();
    return 0;
  }
  return supervise(options);
}

function supervise(options: ClusterOptions): Promise<number> {
  const { logger } = options;
  const minUptimeMs = options.minUptimeMs ?? 5_000;
  const maxFailedStarts = options.maxFailedStarts ?? 5;
  const aggregator = new AggregatorRegistry();
  const startedAt = new Map<number, number>();
  let failedStarts = 0;
  let stopping = false;
  let exitCode = 0;

  const fork = (): Worker => {
    const worker = cluster.fork({ LARDER_WORKER: '1' });
    startedAt.set(worker.id, Date.now());
    return worker;
  };

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping workers');
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    };

    cluster.on('message', (worker, message: { type?: string; id?: number }) => {
      if (message?.type === FORGET) {
        // A write in one worker: every other worker drops what it changed from its hot caches.
        for (const other of Object.values(cluster.workers ?? {}))
          if (other !== undefined && other !== worker && other.isConnected()) other.send(message);
        return;
      }
      if (message?.type !== METRICS_REQ) return;
      aggregator.clusterMetrics().then(
        (body) => worker.isConnected() && worker.send({ type: METRICS_RES, id: message.id, body }),
        (err: unknown) =>
          worker.isConnected() && worker.send({ type: METRICS_RES, id: message.id, error: String(err) }),
      );
    });

    cluster.on('exit', (worker, code, signal) => {
      const uptime = Date.now() - (startedAt.get(worker.id) ?? 0);
      startedAt.delete(worker.id);
      if (!stopping && code === WORKER_START_FAILED) {
        logger.error(
          { worker: worker.process.pid },
          'a worker could not start (its error is above); stopping',
        );
        exitCode = 1;
        stop('SIGTERM');
      } else if (!stopping) {
        failedStarts = uptime < minUptimeMs ? failedStarts + 1 : 0;
        if (failedStarts >= maxFailedStarts) {
          logger.error({ failedStarts }, 'workers keep failing at start; giving up');
          exitCode = 1;
          stop('SIGTERM');
        } else {
          logger.warn(
            { worker: worker.process.pid, code, signal, uptimeMs: uptime },
            'worker died; starting a new one',
          );
          fork();
          return;
        }
      }
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve(exitCode);
      }
    });

    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    logger.info({ workers: options.workers }, 'starting workers');
    for (let i = 0; i < options.workers; i++) fork();
  });
}

/**
 * In a worker: lets the primary collect `registries` for cluster-wide metrics. Call once per
 * worker, after the metrics registry exists. A no-op outside a cluster.
 */
export function shareMetricsWithPrimary(registries: readonly Registry[]): void {
  if (!cluster.isWorker) return;
  AggregatorRegistry.setRegistries([...registries]);
  // Constructing one installs prom-client's worker-side listener for the primary's requests.
  new AggregatorRegistry();
}

let nextRequest = 0;

/**
 * In a worker: the metrics of every worker, aggregated by the primary. Undefined outside a
 * cluster (serve the local registry then).
 */
export function clusterMetrics(timeoutMs = 5_000): Promise<string> | undefined {
  if (!cluster.isWorker || process.send === undefined) return undefined;
  const id = nextRequest++;
  return new Promise<string>((resolve, reject) => {
    const onMessage = (message: { type?: string; id?: number; body?: string; error?: string }): void => {
      if (message?.type !== METRICS_RES || message.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message.body ?? '');
    };
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the cluster primary did not answer the metrics request'));
    }, timeoutMs);
    process.on('message', onMessage);
    process.send?.({ type: METRICS_REQ, id });
  });
}

/** What a write changed, as the hot caches forget it: the kind of write and its partition key. */
/** A key a write changed; `['all', '']`: writes this process could not name (drop everything). */
export type WrittenKey = readonly ['static' | 'action' | 'all', string];

/**
 * In a worker: tells the other workers (through the primary) which keys a write through this
 * worker changed, so that they drop them from their hot caches at once too. A no-op outside a
 * cluster.
 */
export function tellPeersWritten(keys: readonly WrittenKey[]): void {
  if (!cluster.isWorker || process.send === undefined || keys.length === 0) return;
  process.send({ type: FORGET, keys });
}

/**
 * In a worker: calls `listener` with the keys another worker's write changed. Returns the
 * unsubscriber. A no-op outside a cluster.
 */
export function onPeersWritten(listener: (keys: readonly WrittenKey[]) => void): () => void {
  if (!cluster.isWorker) return () => {};
  const onMessage = (message: { type?: string; keys?: WrittenKey[] }): void => {
    if (message?.type === FORGET && Array.isArray(message.keys)) listener(message.keys);
  };
  process.on('message', onMessage);
  return () => void process.off('message', onMessage);
}
