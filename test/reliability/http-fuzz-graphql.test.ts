import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { TestServer } from '../serve/support/test-server.ts';
import { fuzzRequests, runs, startFuzzServer } from './http-fuzz-support.ts';
import { body, document, notGraphQL, validDocument, validVariables } from './http-graphql-documents.ts';

/**
 * Fuzzing `/graphql` with generated documents: fragment graphs (cycles, chains that spread the
 * next fragment several times, unknown and misplaced fragments), aliases that collide, nesting
 * past the depth limit, directives, variables of every JSON shape and of wrong types, operation
 * names, and texts that are not GraphQL (mutated, truncated, binary, bracket runs). Each request
 * must be answered boundedly (http-fuzz-support.ts), and the server must answer a probe after it.
 */

describe('fuzzing /graphql', { timeout: 120_000 }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startFuzzServer();
  });
  afterAll(() => server?.close());

  it('answers any POST body boundedly, and keeps serving', () =>
    fuzzRequests(server, {
      name: 'POST /graphql',
      inputs: body,
      numRuns: runs(400),
      request: (value) => ({
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(value),
      }),
    }));

  it('answers any GET query boundedly, and keeps serving', () =>
    fuzzRequests(server, {
      name: 'GET /graphql',
      inputs: fc.tuple(
        fc.oneof({ weight: 3, arbitrary: validDocument }, document, notGraphQL),
        fc.option(fc.oneof({ weight: 3, arbitrary: validVariables }, fc.jsonValue({ maxDepth: 2 }))),
      ),
      numRuns: runs(150),
      request: ([query, variables]) => {
        const params = new URLSearchParams({ query });
        if (variables !== null) params.set('variables', JSON.stringify(variables));
        const path = `/graphql?${params.toString()}`;
        // Longer URLs are refused by Node before any route (431); they are not what this fuzzes.
        return path.length < 12_000 ? { method: 'GET', path } : undefined;
      },
    }));
});
