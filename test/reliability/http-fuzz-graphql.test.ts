import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../serve/support/test-server.ts';
import {
  expectBounded,
  expectProbe,
  MAX_RSS_GROWTH,
  Outcomes,
  runs,
  send,
  startFuzzServer,
} from './http-fuzz-support.ts';
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

  it('answers any POST body boundedly, and keeps serving', async () => {
    const before = process.memoryUsage().rss;
    const outcomes = new Outcomes();
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const text = JSON.stringify(value);
        const answer = await send(server, {
          method: 'POST',
          path: '/graphql',
          headers: { 'content-type': 'application/json' },
          body: text,
        });
        outcomes.record(answer);
        expectBounded(answer, `POST /graphql ${text.slice(0, 2_000)}`);
        await expectProbe(server);
      }),
      { numRuns: runs(400) },
    );
    outcomes.expectBothSides('POST /graphql');
    expect(process.memoryUsage().rss - before).toBeLessThan(MAX_RSS_GROWTH);
  });

  it('answers any GET query boundedly, and keeps serving', async () => {
    const outcomes = new Outcomes();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 3, arbitrary: validDocument }, document, notGraphQL),
        fc.option(fc.oneof({ weight: 3, arbitrary: validVariables }, fc.jsonValue({ maxDepth: 2 }))),
        async (query, variables) => {
          const params = new URLSearchParams({ query });
          if (variables !== null) params.set('variables', JSON.stringify(variables));
          const path = `/graphql?${params.toString()}`;
          // Longer URLs are refused by Node before any route (431); they are not what this fuzzes.
          fc.pre(path.length < 12_000);
          const answer = await send(server, { method: 'GET', path });
          outcomes.record(answer);
          expectBounded(answer, `GET ${path.slice(0, 2_000)}`);
          await expectProbe(server);
        },
      ),
      { numRuns: runs(150) },
    );
    outcomes.expectBothSides('GET /graphql');
  });
});
