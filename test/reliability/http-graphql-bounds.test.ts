import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, single, type TestServer } from '../serve/support/test-server.ts';
import { errorCodeOf, jsonOf, rawRequest, type RawAnswer } from './http-raw-request.ts';

/**
 * Queries that once took the server down or answered 500, each sent to a real server: each must
 * be refused with a 4xx and its code within a deadline, and the server must answer a probe right
 * after.
 */
const DEADLINE_MS = 2_000;

/** Ten lines where each fragment spreads the next twice: 2^levels fields once spread. */
function doublingFragments(levels: number, field = 'os'): string {
  let text = '{ user(id: 1) { ...F0 } }\n';
  for (let i = 0; i < levels; i++) text += `fragment F${i} on User { ${field} ...F${i + 1} ...F${i + 1} }\n`;
  return `${text}fragment F${levels} on User { ${field} }\n`;
}

describe('GraphQL documents that cost more than their size', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.write([single('u:', 1, 'os', 'ios')]);
  });
  afterAll(() => server?.close());

  async function post(body: unknown): Promise<RawAnswer> {
    return rawRequest(server.base, {
      method: 'POST',
      path: '/graphql',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      timeoutMs: DEADLINE_MS * 5,
    });
  }

  async function expectRefused(answer: RawAnswer, status: number, code: string): Promise<void> {
    expect([answer.status, errorCodeOf(answer)], answer.text.slice(0, 300)).toEqual([status, code]);
    expect(answer.ms).toBeLessThan(DEADLINE_MS);
    const probe = await server.gql('{ user(id: 1) { os } }');
    expect(probe.body).toEqual({ data: { user: { os: 'ios' } } });
  }

  it('refuses 26 levels of doubling fragments at once (POST and GET)', async () => {
    const query = doublingFragments(26);
    expect(query.length).toBeLessThan(1_500);
    await expectRefused(await post({ query }), 400, 'LARDER_ERR_LIMIT_FIELDS');
    const get = await rawRequest(server.base, {
      method: 'GET',
      path: `/graphql?query=${encodeURIComponent(query)}`,
      timeoutMs: DEADLINE_MS * 5,
    });
    await expectRefused(get, 400, 'LARDER_ERR_LIMIT_FIELDS');
  });

  it('refuses doubling fragments of action rows on their rows, not after expanding them', async () => {
    // Below the field limit, 63 copies of 2,100 rows each (100 views, 20 buyers of each article).
    const query = doublingFragments(
      5,
      'recent_view_articles(input: {count: 100}) { article { recent_buyers(input: {count: 20}) { buyer_id } } }',
    );
    await expectRefused(await post({ query }), 400, 'LARDER_ERR_LIMIT_ROWS');
  });

  it('refuses a selection nested 5,000 deep with 400, not 500', async () => {
    const deep = `{ user(id: 1) ${'{ os '.repeat(5_000)}${'}'.repeat(5_001)}`;
    await expectRefused(await post({ query: deep }), 400, 'LARDER_ERR_LIMIT_DEPTH');
  });

  it('answers a query that is not a string, or not GraphQL, with 400', async () => {
    // Fastify's body schema turns 42 into "42", which is not GraphQL; an object cannot be turned.
    await expectRefused(await post({ query: 42 }), 400, 'LARDER_ERR_QUERY_INVALID');
    await expectRefused(await post({ query: { a: 1 } }), 400, 'LARDER_ERR_BAD_REQUEST');
    for (const text of [
      'null',
      '42',
      '[1]',
      '{"kind":"Document","definitions":[{"kind":"OperationDefinition"}]}',
    ]) {
      await expectRefused(await post({ query: text }), 400, 'LARDER_ERR_QUERY_INVALID');
    }
    const syntax = await post({ query: '{ user(id: 1) { os }' });
    expect(jsonOf(syntax)).toEqual({
      data: null,
      errors: [
        {
          message: 'Syntax Error: Expected Name, found <EOF>.',
          locations: [{ line: 1, column: 21 }],
          extensions: expect.objectContaining({ code: 'LARDER_ERR_QUERY_INVALID' }),
        },
      ],
    });
  });

  it('answers a mutation sent with GET with a 4xx, not 500 (found by the fuzz)', async () => {
    const get = await rawRequest(server.base, {
      method: 'GET',
      path: `/graphql?query=${encodeURIComponent('mutation { __typename }')}`,
    });
    await expectRefused(get, 405, 'LARDER_ERR_BAD_REQUEST');
  });

  it('refuses fragment cycles, too many spreads and too many aliases', async () => {
    const cycle = '{ user(id: 1) { ...A } } fragment A on User { os ...B } fragment B on User { ...A }';
    await expectRefused(await post({ query: cycle }), 400, 'LARDER_ERR_QUERY_INVALID');
    const spreads = `{ user(id: 1) { ${Array.from({ length: 101 }, () => '...A').join(' ')} } } fragment A on User { os }`;
    await expectRefused(await post({ query: spreads }), 400, 'LARDER_ERR_LIMIT_FIELDS');
    const aliases = `{ user(id: 1) { ${Array.from({ length: 501 }, (_, i) => `a${i}: os`).join(' ')} } }`;
    await expectRefused(await post({ query: aliases }), 400, 'LARDER_ERR_LIMIT_FIELDS');
    const tokens = `{ users(ids: [${Array.from({ length: 5_000 }, () => '1').join(',')}]) { os } }`;
    await expectRefused(await post({ query: tokens }), 413, 'LARDER_ERR_LIMIT_QUERY_SIZE');
  });

  it('still serves fragments spread where they are used, within the limits', async () => {
    const query =
      '{ a: user(id: 1) { ...P } b: user(id: 1) { ...P } } fragment P on User { os ...Q } fragment Q on User { os }';
    const answer = await post({ query });
    expect(jsonOf(answer)).toEqual({ data: { a: { os: 'ios' }, b: { os: 'ios' } } });
  });
});
