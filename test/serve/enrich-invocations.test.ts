import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Enrichments } from '../../src/enrich/enrichments-contract.ts';
import type { Invocation } from '../../src/enrich/invocation-queue.ts';
import { LarderError } from '../../src/errors.ts';
import { enrichInvocationsPlugin } from '../../src/serve/plugins/enrich-invocations.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

const READ = 'read-key-0123456789abcdef';
const INGEST = 'ingest-key-0123456789abcdef';

/** An honest in-memory Enrichments: the contract the routes speak, without a queue behind it. */
function memoryEnrichments(): Enrichments & { readonly invoked: unknown[] } {
  const invoked: unknown[] = [];
  const invocations = new Map<string, Invocation>();
  return {
    invoked,
    async invoke(enricher, input) {
      if (enricher !== 'echo') throw new LarderError('LARDER_ERR_ENRICH_UNKNOWN_ENRICHER', `no ${enricher}`);
      invoked.push(input);
      const id = `h-${invoked.length}`;
      invocations.set(id, {
        id,
        enricher,
        state: 'queued',
        input: input as Record<string, unknown>,
        attempts: 0,
        createdAt: 1,
        updatedAt: 1,
      });
      return { id };
    },
    async status(enricher, id) {
      const found = invocations.get(id);
      if (found === undefined)
        throw new LarderError('LARDER_ERR_ENRICH_NOT_FOUND', `no ${id} of ${enricher}`);
      return found;
    },
  };
}

describe('the enricher invocation routes, with auth on', () => {
  let server: TestServer;
  const enrichments = memoryEnrichments();
  beforeAll(async () => {
    server = await startTestServer({
      env: { LARDER_API_KEYS: READ, LARDER_INGEST_KEYS: INGEST },
      routes: (app) => void app.register(enrichInvocationsPlugin, { enrichments }),
    });
  });
  afterAll(() => server.close());

  it('invoking needs an ingest key and answers 202 with the id and where its status is', async () => {
    const none = await server.post('/v1/enrichers/echo/invocations', { a: 1 });
    expect(none.status).toBe(401);
    const reader = await server.post('/v1/enrichers/echo/invocations', { a: 1 }, { 'x-api-key': READ });
    expect(reader.status).toBe(403);
    expect(enrichments.invoked).toEqual([]);
    const ok = await server.post('/v1/enrichers/echo/invocations', { a: 1 }, { 'x-api-key': INGEST });
    expect(ok.status).toBe(202);
    expect(ok.body).toEqual({
      id: 'h-1',
      enricher: 'echo',
      state: 'queued',
      status: '/v1/enrichers/echo/invocations/h-1',
    });
  });

  it('reading a status needs a read key; unknown names and ids are 404 with their codes', async () => {
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${server.base}${path}`, { headers }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    expect((await get('/v1/enrichers/echo/invocations/h-1')).status).toBe(401);
    expect(await get('/v1/enrichers/echo/invocations/h-1', { 'x-api-key': READ })).toMatchObject({
      status: 200,
      body: { id: 'h-1', state: 'queued', input: { a: 1 } },
    });
    expect(await get('/v1/enrichers/echo/invocations/h-9', { 'x-api-key': READ })).toMatchObject({
      status: 404,
      body: { code: 'LARDER_ERR_ENRICH_NOT_FOUND' },
    });
    const unknown = await server.post('/v1/enrichers/nope/invocations', {}, { 'x-api-key': INGEST });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'LARDER_ERR_ENRICH_UNKNOWN_ENRICHER' } });
  });
});
