import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../serve/support/test-server.ts';
import { contentTypeHeader, fuzzRequests, runs, startFuzzServer } from './http-fuzz-support.ts';

/**
 * Fuzzing `POST /v1/features` with generated bodies: entities and feature names real and not
 * (prototype keys among them), ids of every JSON type and edge (huge and negative integers,
 * fractions, NUL, lone surrogates, long strings, more than the ids limit), counts and windows at
 * and past their edges, extra keys, bodies that are not objects, nested deep, with duplicate or
 * `__proto__` keys, number literals JSON.stringify never writes (`1e400`, `-0`), and content
 * types other than JSON. Each answer must be bounded (http-fuzz-support.ts) and followed by a
 * probe read.
 */

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
const FEATURES = [
  'os',
  'region_id',
  'notification_keywords',
  'recent_view_articles',
  'recent_search_keywords',
  'title',
  'price',
  'recent_buyers',
  'nickname',
  'id',
];

const name = (real: readonly string[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...real) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  );

const INT_EDGES = [0, -1, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 53), 1.5, -0, 1e300];

const id = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 50 }) },
  { weight: 2, arbitrary: fc.constantFrom(...INT_EDGES) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x'.repeat(5_000), '__proto__', ''),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const feature = fc.record(
  {
    name: name(FEATURES),
    count: fc.oneof(
      fc.integer({ min: 0, max: 120 }),
      fc.constantFrom(...INT_EDGES),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    lastNSec: fc.oneof(fc.integer({ min: 0, max: 10 ** 7 }), fc.constantFrom(...INT_EDGES)),
  },
  { requiredKeys: ['name'] },
);

const request = fc.record(
  {
    entity: name(['user', 'user', 'flea_article', 'seller']),
    ids: fc.oneof(
      { weight: 8, arbitrary: fc.array(id, { maxLength: 12 }) },
      {
        weight: 1,
        arbitrary: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 990, maxLength: 1_010 }),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    ),
    features: fc.oneof(
      { weight: 8, arbitrary: fc.array(feature, { minLength: 1, maxLength: 6 }) },
      { weight: 1, arbitrary: fc.array(feature, { minLength: 495, maxLength: 505 }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    ),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: ['entity', 'ids', 'features'] },
);

/** Requests the serving test registry can answer: an entity with some of its own features. */
const ENTITY_FEATURES: Record<string, { statics: string[]; actions: [string, number][] }> = {
  user: {
    statics: ['os', 'region_id', 'notification_keywords'],
    actions: [
      ['recent_view_articles', 100],
      ['recent_search_keywords', 50],
    ],
  },
  flea_article: { statics: ['title', 'price', 'category', 'seller_id'], actions: [['recent_buyers', 20]] },
  seller: { statics: ['nickname'], actions: [] },
};

const validRequest = fc.constantFrom(...Object.keys(ENTITY_FEATURES)).chain((entity) => {
  const { statics, actions } = ENTITY_FEATURES[entity] as (typeof ENTITY_FEATURES)[string];
  const staticFeature = fc.constantFrom(...statics).map((n) => ({ name: n }));
  const parts = [staticFeature, staticFeature];
  if (actions.length > 0) {
    parts.push(
      fc
        .tuple(
          fc.constantFrom(...actions),
          fc.option(fc.nat(120), { nil: undefined }),
          fc.option(fc.nat(10 ** 7), { nil: undefined }),
        )
        .map(([[n, max], count, lastNSec]) => ({
          name: n,
          ...(count === undefined ? {} : { count: Math.min(count, max) }),
          ...(lastNSec === undefined ? {} : { lastNSec }),
        })),
    );
  }
  return fc.record({
    entity: fc.constant(entity),
    ids: fc.array(fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }).map(String)), {
      maxLength: 12,
    }),
    features: fc.array(fc.oneof(...parts), { minLength: 1, maxLength: 6 }),
  });
});

/** A body as text: a request, any JSON, deep nesting, or literal tricks JSON.stringify avoids. */
const bodyText = fc.oneof(
  { weight: 8, arbitrary: validRequest.map((r) => JSON.stringify(r)) },
  { weight: 8, arbitrary: request.map((r) => JSON.stringify(r)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('[', '{"a":'), fc.integer({ min: 1, max: 50_000 }))
      .map(([open, n]) => `${open.repeat(n)}1${(open === '[' ? ']' : '}').repeat(n)}`),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('1e400', '-0', '-1e400', '1E2', '0.1e-400', '123456789012345678901234567890'),
        fc.constantFrom(...PROTO_KEYS),
      )
      .map(
        ([n, key]) =>
          `{"entity":"user","ids":[${n}],"features":[{"name":"recent_view_articles","count":${n}}],"${key}":{"polluted":true}}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"entity":"user","entity":"seller","ids":[1],"features":[{"name":"os"}]}',
      '{"__proto__":{"entity":"user"},"ids":[1],"features":[{"name":"os"}]}',
      '{"entity":"user","ids":[1],"features":[{"name":"os","__proto__":{"count":5}}]}',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
);

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/JSON',
      '',
    ),
  },
);

describe('fuzzing POST /v1/features', { timeout: 120_000 }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startFuzzServer();
  });
  afterAll(() => server?.close());

  it('answers any body boundedly, and keeps serving', async () => {
    await fuzzRequests(server, {
      name: 'POST /v1/features',
      inputs: fc.tuple(bodyText, contentType),
      numRuns: runs(400),
      request: ([text, type]) => ({
        method: 'POST',
        path: '/v1/features',
        headers: contentTypeHeader(type),
        body: text,
      }),
      served: (answer, [text], what) => {
        // One result per id, in order; nothing the prototype could have added.
        const results = (JSON.parse(answer.text) as { results: { id: string }[] }).results;
        const sent = JSON.parse(text) as { ids: unknown[] };
        expect(
          results.map((r) => r.id),
          what,
        ).toEqual(sent.ids.map(String));
        expect(answer.text, what).not.toContain('polluted');
      },
    });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
