import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { createServer } from '../../serve/server.ts';
import { ServeMetrics } from '../../serve/metrics.ts';
import { openRuntime, type Runtime } from '../../runtime/open-runtime.ts';
import { readConfig } from '../../runtime/read-config.ts';
import { serveOptionsFrom } from '../../runtime/serve-options.ts';
import { createLogger } from '../logger.ts';
import { parsePort, parsePositiveInt } from '../options.ts';
import { MarketplaceGenerator } from '../demo/marketplace-events.ts';
import type { IncomingEvent } from '../../ingest/types.ts';
import type { LarderConfig } from '../../config/load-config.ts';
import { partitionKey } from '../../keys/keys.ts';

/** The example registry the demo serves: YAML files only, read at run time like any registry. */
const EXAMPLE_REGISTRY = fileURLToPath(new URL('../../../examples/marketplace', import.meta.url));
/** The example category predictor as an HTTP service, for the registry's `http` enricher. */
const PREDICTOR_SERVER = path.join(EXAMPLE_REGISTRY, 'handlers', 'predictor-server.mjs');

export const DEMO_QUERY = `{
  user(id: 1) {
    os
    region_id
    notification_keywords
    recent_view_articles(input: {count: 5, lastNSec: 604800}) { article_id timestamp }
    recent_search_keywords(input: {count: 3}) { keyword result_count timestamp }
  }
  flea_articles(ids: [1, 2, 3]) {
    id title price category
    predicted_category service_category title_embedding
  }
  for_you: flea_articles(ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
    rankBy: {similarityTo: {entity: user, id: 1, feature: interest_vector}, limit: 3}) { id title }
}`;

interface DemoOptions {
  readonly port: number;
  readonly host: string;
  readonly data: string;
  readonly rate: number;
  readonly users: number;
  readonly articles: number;
  readonly config?: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('Start Larder on the embedded default with the example registry and live synthetic events.')
    .option('--port <n>', 'port to listen on (0 picks a free one)', parsePort, 4000)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'data directory', './.larder/demo')
    .option('--rate <n>', 'synthetic events per second', parsePositiveInt, 500)
    .option('--users <n>', 'number of synthetic users', parsePositiveInt, 1000)
    .option('--articles <n>', 'number of synthetic articles', parsePositiveInt, 5000)
    .option('--config <file>', 'config file (default: LARDER_CONFIG, else embedded LMDB + local cache)')
    .action(async (options: DemoOptions) => {
      await runDemo(options);
    });
}

async function runDemo(options: DemoOptions): Promise<void> {
  const logger = createLogger(process.env.LARDER_LOG_LEVEL ?? 'warn');
  const config = readConfig(options.config);
  const serveOptions = serveOptionsFrom(config);
  const metrics = new ServeMetrics();
  // The http enricher's service: ours, unless PREDICTOR_URL already names one.
  const predictor = process.env.PREDICTOR_URL === undefined ? await startPredictor() : undefined;
  if (predictor !== undefined) process.env.PREDICTOR_URL = predictor.url;
  const runtime = await openRuntime({
    config,
    registryDir: EXAMPLE_REGISTRY,
    dataDir: options.data,
    logger,
    metrics,
  });
  const { ctx } = runtime;
  // Embedded mode runs the enrichment workers here; distributed mode has `larder enrich` fleets.
  if (config.enrich.mode === 'embedded') await runtime.startEnrichWorkers();
  const generator = new MarketplaceGenerator({ users: options.users, articles: options.articles });
  const firstTitles = new Map<number, string>();

  const toIncoming = (e: { stream: string; topic: string; body: unknown }): IncomingEvent => ({
    ...e,
    receivedAt: Date.now(),
  });
  let seeded = 0;
  let batch: IncomingEvent[] = [];
  for (const event of generator.seedEvents()) {
    const { article_id: id, after } = event.body as { article_id?: number; after?: { title?: string } };
    if (event.topic === 'cdc_article' && id !== undefined && id <= 3) firstTitles.set(id, after?.title ?? '');
    batch.push(toIncoming(event));
    if (batch.length === 2000) {
      seeded += (await ctx.ingest(batch)).accepted;
      // The http enricher runs on HTTP invocations: ask it about the first articles, as a client would.
      for (const [id, title] of firstTitles) {
        await ctx.enrichments?.invoke('category_prediction_service', { article_id: id, title });
      }
      batch = [];
    }
  }
  seeded += (await ctx.ingest(batch)).accepted;

  const app = await createServer(ctx, { logger, metrics, admin: runtime.admin, ...serveOptions });
  const address = await listenWithFallback(app, options.port, options.host);
  const url = `${address}/graphql`;

  // Live events: a batch every 100 ms, so features change while you query them.
  let live = 0;
  const perTick = Math.max(1, Math.round(options.rate / 10));
  const timer = setInterval(() => {
    const events = Array.from({ length: perTick }, () => toIncoming(generator.next()));
    ctx.ingest(events).then(
      (report) => (live += report.accepted),
      (err: unknown) => logger.error({ err }, 'demo ingestion failed'),
    );
  }, 100);

  const registryPath = path.relative(process.cwd(), EXAMPLE_REGISTRY) || EXAMPLE_REGISTRY;
  const curlBody = JSON.stringify({ query: DEMO_QUERY.replace(/\s+/g, ' ') });
  process.stdout.write(
    [
      '',
      `Larder demo is running (store: ${storeText(config, options.data)}, registry ${registryPath})`,
      `  seeded ${seeded} events for ${options.users} users and ${options.articles} articles; ` +
        `now streaming ~${options.rate} events/s`,
      '',
      `GraphQL:  POST ${url}`,
      `Health:   ${address}/healthz   Ready: ${address}/readyz`,
      `Push:     POST ${address}/v1/streams/client_event/client_event_cleansed`,
      '',
      'Enrichment (docs/enrichment.md): every article event queues two invocations whose results come',
      'back as features: title_embedding (module handler, feature hashing) and predicted_category',
      '(command handler, plain Node over NDJSON). service_category comes from the same predictor as an',
      `HTTP service (${process.env.PREDICTOR_URL ?? ''}), invoked over HTTP:`,
      '',
      `curl -s ${address}/v1/enrichers/category_prediction_service/invocations -H 'content-type: application/json' \\`,
      `  -d '{"article_id": 1, "title": "Road bike"}'`,
      '',
      'Paste this query into any GraphQL client:',
      '',
      DEMO_QUERY,
      '',
      'or run:',
      '',
      `curl -s ${url} -H 'content-type: application/json' -d '${curlBody}'`,
      '',
      'Edit a YAML file in the registry and the schema follows without a restart. Ctrl-C stops.',
      '',
    ].join('\n'),
  );

  const statusTimer = setInterval(() => logger.info({ live }, 'demo events ingested'), 10_000);
  const enrichedTimer = setInterval(() => {
    const id = generator.newestArticle;
    if (id === undefined) return;
    printEnriched(runtime, id).catch((err: unknown) =>
      logger.warn({ err }, 'demo: reading an enriched article failed'),
    );
  }, 5_000);
  const shutdown = async () => {
    clearInterval(timer);
    clearInterval(statusTimer);
    clearInterval(enrichedTimer);
    await app.close();
    await runtime.close();
    predictor?.process.kill('SIGTERM');
    process.stdout.write(`\nstopped after ${live} live events\n`);
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

async function listenWithFallback(
  app: Awaited<ReturnType<typeof createServer>>,
  port: number,
  host: string,
): Promise<string> {
  try {
    return await app.listen({ port, host });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    process.stderr.write(`port ${port} is in use; listening on a free port instead\n`);
    return await app.listen({ port: 0, host });
  }
}

function storeText(config: LarderConfig, dataDir: string): string {
  const { store } = config;
  return store.type === 'dynamodb'
    ? `DynamoDB table ${store.table}${store.endpoint === undefined ? '' : ` at ${store.endpoint}`}`
    : `LMDB in ${store.path ?? dataDir}`;
}

/** Starts the example predictor service on a free port; resolves once it listens. */
async function startPredictor(): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [PREDICTOR_SERVER, '--port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  process.once('exit', () => child.kill('SIGTERM'));
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on (\d+)/.exec(text);
      if (match !== null) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the example predictor exited (${code}): ${text}`)));
  });
  return { url: `http://127.0.0.1:${port}/predict`, process: child };
}

/** One line about the newest live article: its enriched features, once they have arrived. */
async function printEnriched(runtime: Runtime, id: number): Promise<void> {
  const entity = runtime.ctx.registry.current.entities.get('flea_article');
  if (entity === undefined) return;
  const [title, category, embedding] = await runtime.ctx.store.getStatic(
    ['title', 'predicted_category', 'title_embedding'].map((f) => partitionKey(entity, String(id), f)),
  );
  // A vector(64) value is a Float32Array; its numbers are shown to 4 significant digits.
  const value = embedding?.value;
  const vector =
    value instanceof Float32Array ? Array.from(value, (x) => Number(x.toPrecision(4))) : undefined;
  const shown =
    vector === undefined ? 'pending' : `[${vector.slice(0, 4).join(', ')}, ...] (${vector.length} dims)`;
  process.stdout.write(
    `new article ${id} ${JSON.stringify(title?.value ?? '')}: predicted_category ${String(category?.value ?? 'pending')}, title_embedding ${shown}\n`,
  );
}
