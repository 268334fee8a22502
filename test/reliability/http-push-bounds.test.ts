import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../serve/support/test-server.ts';
import { errorCodeOf, jsonOf, rawRequest, type RawAnswer } from './http-raw-request.ts';

/**
 * Push bodies whose answer or work once grew with the number of events in them (1M NDJSON lines
 * of `1` built a 108 MB answer; 4M killed the process), sent to a real server.
 */
const NDJSON = { 'content-type': 'application/x-ndjson' };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('push bodies bounded by events, not by what they hold', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  const push = (body: string, headers: Record<string, string>): Promise<RawAnswer> =>
    rawRequest(server.base, { method: 'POST', path: '/v1/streams/ev/t', headers, body, timeoutMs: 20_000 });

  async function probe(): Promise<void> {
    expect((await server.gql('{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
  }

  it('refuses 4M NDJSON lines (8 MB, under the body limit) whole and at once, with bounded memory', async () => {
    const before = process.memoryUsage().rss;
    const answer = await push('1\n'.repeat(4_000_000), NDJSON);
    expect([answer.status, errorCodeOf(answer)]).toEqual([413, 'LARDER_ERR_LIMIT_EVENTS']);
    expect(answer.ms).toBeLessThan(3_000);
    expect(answer.text.length).toBeLessThan(1_000);
    // The body itself is 8 MB (16 MB as a JS string); nothing per line is kept.
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 2 ** 20);
    const array = await push(`[${Array.from({ length: 10_001 }, () => '{}').join(',')}]`, JSON_TYPE);
    expect([array.status, errorCodeOf(array)]).toEqual([413, 'LARDER_ERR_LIMIT_EVENTS']);
    await probe();
  });

  it('answers a full batch of rejections with the first 100 and counts by code', async () => {
    const answer = await push('1\n'.repeat(10_000), NDJSON);
    expect(answer.status).toBe(200);
    const body = jsonOf(answer) as Record<string, unknown> & { rejections: unknown[] };
    expect(body).toMatchObject({
      accepted: 0,
      filtered: 0,
      rejected: 10_000,
      rejectionsByCode: { LARDER_ERR_EVENT_NOT_OBJECT: 10_000 },
      rejectionsOmitted: 9_900,
    });
    expect(body.rejections).toHaveLength(100);
    expect(body.rejections[0]).toMatchObject({ index: 0, code: 'LARDER_ERR_EVENT_NOT_OBJECT' });
    expect(answer.text.length).toBeLessThan(50_000);
    await probe();
  });

  it('rejects an event nested too deep alone, in NDJSON and in an array, and keeps the others', async () => {
    const good = (id: string) =>
      JSON.stringify({ name: 'app_open', user_id: 41, os: 'ios', ts: 1_700_000_000_000, event_id: id });
    const deep = `{"name":"app_open","user_id":41,"os":"x","ts":1700000000000,"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const lines = await push([good('d1'), deep, good('d2')].join('\n'), NDJSON);
    expect(jsonOf(lines)).toMatchObject({
      accepted: 2,
      rejected: 1,
      rejections: [{ index: 1, code: 'LARDER_ERR_EVENT_PARSE', message: expect.stringContaining('deeper') }],
    });
    const array = await push(`[${good('d3')},${deep},${good('d4')}]`, JSON_TYPE);
    expect(jsonOf(array)).toMatchObject({
      accepted: 2,
      rejected: 1,
      rejections: [{ index: 1, code: 'LARDER_ERR_EVENT_PARSE' }],
    });
    const alone = await push(deep, JSON_TYPE);
    expect(jsonOf(alone)).toMatchObject({
      accepted: 0,
      rejected: 1,
      rejectionsByCode: { LARDER_ERR_EVENT_PARSE: 1 },
    });
    await probe();
  });
});
