import fc from 'fast-check';
import { expect } from 'vitest';
import { single, startTestServer, type TestServer } from '../serve/support/test-server.ts';
import { errorCodeOf, rawRequest, type RawAnswer, type RawRequest } from './http-raw-request.ts';

/**
 * What every HTTP fuzz property (http-fuzz-*.test.ts) asserts of each request, against a real
 * server over a real socket: a bounded answer (success, or a 4xx with a `LARDER_ERR_*` code, never
 * a 5xx), within a deadline, and a server that still answers a probe read right after.
 */

/** Per request. Generous: the machine is shared, and a hostile request once took 22 s. */
export const DEADLINE_MS = 3_000;

/**
 * Runs per property (docs/reliability.md records them). `LARDER_FUZZ_SCALE=10` runs ten times as
 * many, for a longer search by hand.
 */
export function runs(base: number): number {
  const scale = Number(process.env['LARDER_FUZZ_SCALE'] ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** The article the probe reads; fuzzed writes never use its id. */
export const PROBE_ARTICLE = 987_654_321;

/** A server for fuzzing: the serving test registry, auth off, the probe's article written. */
export async function startFuzzServer(): Promise<TestServer> {
  const server = await startTestServer();
  await server.write([single('c:flea:', PROBE_ARTICLE, 'title', 'probe')]);
  return server;
}

export async function send(server: TestServer, request: RawRequest): Promise<RawAnswer> {
  return rawRequest(server.base, { timeoutMs: DEADLINE_MS * 4, ...request });
}

/** A bounded answer: 2xx/3xx, or a 4xx carrying a Larder code; in time. */
export function expectBounded(answer: RawAnswer, what: string): void {
  const context = `${what}\n=> ${answer.status} in ${answer.ms.toFixed(0)} ms: ${answer.text.slice(0, 400)}`;
  expect(answer.status, context).toBeLessThan(500);
  if (answer.status >= 400) expect(errorCodeOf(answer), context).toMatch(/^LARDER_ERR_[A-Z_]+$/);
  expect(answer.ms, context).toBeLessThan(DEADLINE_MS);
}

/** The server still reads and answers, in time. */
export async function expectProbe(server: TestServer): Promise<void> {
  const answer = await send(server, {
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ flea_article(id: ${PROBE_ARTICLE}) { title } }` }),
  });
  expect(answer.text).toBe('{"data":{"flea_article":{"title":"probe"}}}');
  expect(answer.ms).toBeLessThan(DEADLINE_MS);
}

/** Resident memory must not grow by more than this over one property (a coarse leak check). */
export const MAX_RSS_GROWTH = 512 * 2 ** 20;

/**
 * The answers one property got, by status and code. A property whose generators only ever reach
 * one side (all refused, or all served) explores too little: `expectBothSides` fails it.
 * `FUZZ_STATS=1` prints the tally (the figures in docs/reliability.md).
 */
export class Outcomes {
  readonly #tally = new Map<string, number>();
  #total = 0;
  #served = 0;
  #slowest = 0;

  record(answer: RawAnswer): void {
    this.#total++;
    if (answer.status < 400) this.#served++;
    this.#slowest = Math.max(this.#slowest, answer.ms);
    const key =
      answer.status < 400 ? String(answer.status) : `${answer.status} ${errorCodeOf(answer) ?? '?'}`;
    this.#tally.set(key, (this.#tally.get(key) ?? 0) + 1);
  }

  expectBothSides(name: string): void {
    if (process.env['FUZZ_STATS'] === '1') {
      const rows = [...this.#tally].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${n}\t${k}`);
      console.log(
        `${name}: ${this.#total} requests, slowest ${this.#slowest.toFixed(0)} ms\n${rows.join('\n')}`,
      );
    }
    expect(this.#served, `${name}: some requests served`).toBeGreaterThan(this.#total * 0.05);
    expect(this.#total - this.#served, `${name}: some requests refused`).toBeGreaterThan(this.#total * 0.05);
  }
}

export interface FuzzProperty<T> {
  /** Names the property in failures and statistics, e.g. `POST /graphql`. */
  readonly name: string;
  readonly inputs: fc.Arbitrary<T>;
  readonly numRuns: number;
  /** The request for one generated input; undefined skips the input (a precondition). */
  readonly request: (input: T) => RawRequest | undefined;
  /** What else a served answer must hold, beyond being bounded. */
  readonly served?: (answer: RawAnswer, input: T, what: string) => void;
}

/**
 * Runs one property: each generated input is sent, its answer must be bounded and hold `served`
 * when it was served, and a probe read follows it. Over the property, both sides must be reached
 * (`Outcomes`) and resident memory must stay within MAX_RSS_GROWTH.
 */
export async function fuzzRequests<T>(server: TestServer, property: FuzzProperty<T>): Promise<void> {
  const before = process.memoryUsage().rss;
  const outcomes = new Outcomes();
  await fc.assert(
    fc.asyncProperty(property.inputs, async (input) => {
      const request = property.request(input);
      fc.pre(request !== undefined);
      const answer = await send(server, request);
      outcomes.record(answer);
      const body = typeof request.body === 'string' ? request.body : (request.body?.toString('utf8') ?? '');
      const what = `${request.method} ${request.path.slice(0, 2_000)} ${JSON.stringify(request.headers ?? {})} ${body.slice(0, 2_000)}`;
      expectBounded(answer, what);
      if (answer.status < 400) property.served?.(answer, input, what);
      await expectProbe(server);
    }),
    { numRuns: property.numRuns },
  );
  outcomes.expectBothSides(property.name);
  expect(process.memoryUsage().rss - before).toBeLessThan(MAX_RSS_GROWTH);
}

/** Headers with a content type, or none when it is empty (a request without the header). */
export function contentTypeHeader(type: string): Record<string, string> {
  return type === '' ? {} : { 'content-type': type };
}
