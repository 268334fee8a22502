import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { createIngestor } from '../../src/ingest/ingestor.ts';
import { partitionKey } from '../../src/keys/keys.ts';
import type { ServeContext } from '../../src/serve/context.ts';
import { createServer, type ServerOptions } from '../../src/serve/server.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import type { EntityDef, Registry } from '../../src/registry/types.ts';
import { LmdbDeadLetterStore } from '../../src/store/lmdb/lmdb-dead-letters.ts';
import { openLmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import type { StaticMutation, StoreWrite } from '../../src/store/online-store.ts';
import { tempDir } from '../support/temp-dir.ts';
import { CountingStore } from './counting-store.ts';

/**
 * A real Larder server over a real LMDB store in a temp dir. The store is wrapped in a
 * CountingStore (a call counter, not a mock), with the real LMDB dead-letter table beside it.
 */
export interface ServeFixture {
  readonly app: FastifyInstance;
  readonly store: CountingStore;
  readonly registry: RegistryHolder;
  readonly logger: Logger;
  /** Runs a GraphQL query through `app.inject`; returns status and parsed body. */
  gql(query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: GraphQLBody }>;
  close(): Promise<void>;
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
}

/** A pino logger that keeps every line it writes, parsed, for assertions. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

export async function startServeFixture(
  initial: Registry,
  options: ServerOptions = {},
  logger: Logger = pino({ level: 'silent' }),
): Promise<ServeFixture> {
  const tmp = tempDir('larder-serve-');
  // One LMDB environment shared by the store and the dead-letter table, as `larder serve` does.
  const env = openLmdbEnv(tmp.dir);
  const store = new CountingStore(new LmdbStore(env));
  await store.open();
  const registry = new RegistryHolder(initial);
  const deadLetters = new LmdbDeadLetterStore(env);
  const ingestor = createIngestor({ registry, store, deadLetters, logger });
  const ctx: ServeContext = {
    registry,
    store,
    deadLetters,
    logger,
    ingest: (events) => ingestor.ingest(events, { origin: 'http' }),
  };
  const app = await createServer(ctx, options);
  await app.ready();
  return {
    app,
    store,
    registry,
    logger,
    async gql(query, variables) {
      const res = await app.inject({ method: 'POST', url: '/graphql', payload: { query, variables } });
      return { status: res.statusCode, body: res.json() as GraphQLBody };
    },
    async close() {
      await app.close();
      await store.close();
      await env.close();
      tmp.remove();
    },
  };
}

/** Writes a static value the way ingestion does (`set` for single, `add` per set member, ...). */
export function staticWrite(
  entity: EntityDef,
  id: string,
  feature: string,
  container: 'single' | 'set' | 'map',
  mutation: StaticMutation,
  ts = Date.now(),
): StoreWrite {
  return {
    kind: 'static',
    pk: partitionKey(entity, id, feature),
    container,
    mutation,
    ts,
    ttlMs: undefined,
    maxCount: 100,
  };
}

export function actionWrite(
  entity: EntityDef,
  id: string,
  feature: string,
  ts: number,
  values: Record<string, unknown>,
  maxCount = 100,
): StoreWrite {
  return {
    kind: 'action',
    pk: partitionKey(entity, id, feature),
    row: { ts, eventId: `${feature}-${id}-${ts}`, values },
    maxCount,
    ttlMs: undefined,
  };
}
