import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FloatVector } from '../../src/keys/float-vector.ts';
import type { StoreWrite } from '../../src/store/online-store.ts';
import { row, single, startTestServer, type AnyJson, type TestServer } from './support/test-server.ts';

/**
 * The compiled GraphQL fast path answers exactly as the full executor does. Two real servers
 * over HTTP hold the same data, one with the fast path (the default) and one without; every
 * query below must get byte-identical answers (status and body text) from both, and the fast
 * server's `larder_graphql_fast_path_total` must show which path answered.
 */

const EXTRA = {
  'extra.yaml': `
features:
  user:
    last_location:
      events: [{streamName: ev, topic: t, subTopic: loc, fields: [{name: lat, type: float}, {name: lng, type: float}]}]
    keyword_scores:
      containerType: map
      mapKey: keyword
      events: [{streamName: ev, topic: t, subTopic: score, fields: [{name: keyword, type: string}, {name: score, type: float}]}]
    interest_vector:
      events: [{streamName: ev, topic: t, subTopic: interest, fields: [{name: interest_vector, type: "vector(8)"}]}]
    viewed_embeddings:
      featureType: action
      events: [{streamName: ev, topic: t, subTopic: seen, fields: [{name: embedding, type: "vector(8)"}, {name: article_id, type: int}]}]
  flea_article:
    title_embedding:
      events: [{streamName: ev, topic: emb, fields: [{name: title_embedding, type: "vector(8)"}]}]
`,
};

/** A vector(8) value as ingestion stores it: float32, with values that print long, short and negative. */
function vector8(seed: number): FloatVector {
  const v = new FloatVector(8);
  for (let i = 0; i < 8; i++) v[i] = i === 0 ? -0 : i === 1 ? seed : Math.sin(seed * i) * 10 ** (i - 4);
  return v;
}

function data(now: number): StoreWrite[] {
  const writes: StoreWrite[] = [];
  for (let a = 1; a <= 30; a++) {
    writes.push(single('c:flea:', a, 'title', `Bike "${a}" — ü`), single('c:flea:', a, 'price', a * 1000));
    if (a % 4 !== 0) writes.push(single('c:flea:', a, 'category', a % 5));
    writes.push(single('c:flea:', a, 'seller_id', `s${a % 3}`));
  }
  for (let s = 0; s < 3; s++) writes.push(single('s:', `s${s}`, 'nickname', `seller-${s}`));
  for (let u = 1; u <= 3; u++) {
    writes.push(single('u:', u, 'os', u === 2 ? 'android' : 'ios'), single('u:', u, 'region_id', 100 + u));
    for (let i = 0; i < 12; i++) {
      const values: Record<string, unknown> = { article_id: u * 10 + i - 9 };
      if (i % 3 === 0) values['source'] = 'feed';
      writes.push(row('u:', u, 'recent_view_articles', now - i * 1000, values));
      writes.push(row('u:', u, 'recent_search_keywords', now - i * 60_000, { keyword: `kw${i}` }));
    }
  }
  writes.push(row('u:', 1, 'recent_view_articles', now + 500, { article_id: 999 }));
  writes.push({
    kind: 'static',
    pk: 'u:1#notification_keywords',
    container: 'set',
    mutation: { op: 'add', value: 'lego' },
    ts: now,
    ttlMs: undefined,
    maxCount: 100,
  });
  writes.push(single('u:', 1, 'last_location', { lat: 37.5, lng: 127.25 }));
  for (const [key, value] of [
    ['lego', 0.5],
    ['bike', 2],
  ] as const) {
    writes.push({
      kind: 'static',
      pk: 'u:1#keyword_scores',
      container: 'map',
      mutation: { op: 'put', key, value },
      ts: now,
      ttlMs: undefined,
      maxCount: 100,
    });
  }
  for (let a = 1; a <= 30; a += 2) writes.push(single('c:flea:', a, 'title_embedding', vector8(a)));
  writes.push(single('u:', 1, 'interest_vector', vector8(2)), single('u:', 3, 'interest_vector', vector8(0)));
  for (let i = 0; i < 3; i++) {
    writes.push(row('u:', 1, 'viewed_embeddings', now - i, { embedding: vector8(i + 5), article_id: i }));
  }
  writes.push(row('c:flea:', 1, 'recent_buyers', now, { buyer_id: 7, seller_id: 's1' }));
  writes.push(row('c:flea:', 1, 'recent_buyers', now - 1, { buyer_id: 8, seller_id: 'nobody' }));
  return writes;
}

interface Case {
  readonly name: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly operationName?: string;
}

const ANSWERED: Case[] = [
  {
    name: 'a profile: statics, two action features, a join',
    query: `query Profile($id: ID!) { user(id: $id) { os region_id notification_keywords
      recent_view_articles(input: {count: 5}) { article_id source timestamp article { id title price category } }
      recent_search_keywords(input: {count: 3}) { keyword timestamp } } }`,
    variables: { id: '1' },
  },
  {
    name: 'aliases, __typename at every level, the registry version',
    query: `{ v: _registryVersion t: __typename me: user(id: 2) { __typename ident: id os
      views: recent_view_articles(input: {count: 2}) { __typename ts: timestamp a: article { __typename name: title } } } }`,
  },
  {
    name: 'a batch with duplicates and a missing entity',
    query:
      '{ users(ids: [1, 2, 3, 1, 42]) { id os region_id recent_search_keywords(input: {count: 1}) { keyword } } }',
  },
  {
    name: 'candidates from a variable list of integer ids',
    query: 'query Candidates($ids: [ID!]!) { flea_articles(ids: $ids) { id title price category } }',
    variables: { ids: [1, '2', 3, 4, 999, 8] },
  },
  {
    name: 'a filter, applied before count',
    query: `{ user(id: 1) { recent_view_articles(input: {count: 2, filter: [{field: "source", eq: "feed"}]}) { article_id source } } }`,
  },
  {
    name: 'lastNSec and the default count',
    query:
      '{ user(id: 3) { a: recent_search_keywords(input: {lastNSec: 200}) { keyword } b: recent_search_keywords { keyword } } }',
  },
  {
    name: 'a join selecting only the id: existence is checked, a missing article is null',
    query: '{ user(id: 1) { recent_view_articles(input: {count: 3}) { article_id article { id } } } }',
  },
  {
    name: 'a join to a string-keyed entity, with a missing one',
    query: '{ flea_article(id: 1) { title recent_buyers { buyer_id seller_id seller { id nickname } } } }',
  },
  {
    name: 'a value-object static, a map static, absent values',
    query: '{ users(ids: [1, 2]) { last_location { lng lat } keyword_scores notification_keywords } }',
  },
  {
    name: 'an input object from variables',
    query:
      'query Q($n: Int, $window: Int) { user(id: 1) { recent_search_keywords(input: {count: $n, lastNSec: $window}) { keyword } } }',
    variables: { n: 4, window: 3600 },
  },
  {
    name: 'vectors: a static vector, absent ones, vector fields of action rows',
    query: `{ users(ids: [1, 2, 3]) { interest_vector viewed_embeddings(input: {count: 2}) { embedding article_id } }
      flea_articles(ids: [1, 2, 3]) { id title_embedding } }`,
  },
  {
    name: 'vectors of joined entities',
    query:
      '{ user(id: 2) { recent_view_articles(input: {count: 4}) { article_id article { title_embedding } } } }',
  },
  {
    name: 'one operation of several, by operationName',
    query: 'query A { user(id: 1) { os } } query B { user(id: 2) { os region_id } }',
    operationName: 'B',
  },
];

const HANDED_OVER: Case[] = [
  {
    name: 'a count above maxCount',
    query: '{ user(id: 1) { recent_search_keywords(input: {count: 51}) { keyword } } }',
  },
  { name: 'an id that is not an integer', query: '{ user(id: "abc") { os } }' },
  { name: 'a missing non-null variable', query: 'query Q($id: ID!) { user(id: $id) { os } }' },
  {
    name: 'a variable of the wrong type',
    query: 'query Q($id: ID!) { user(id: $id) { os } }',
    variables: { id: { nested: true } },
  },
  {
    name: 'a bad filter field',
    query: `{ user(id: 1) { recent_view_articles(input: {filter: [{field: "nope", eq: 1}]}) { article_id } } }`,
  },
  {
    name: 'too many ids',
    query: 'query C($ids: [ID!]!) { flea_articles(ids: $ids) { title } }',
    variables: { ids: Array.from({ length: 1001 }, (_, i) => i + 1) },
  },
];

const NOT_COVERED: Case[] = [
  { name: 'a fragment', query: '{ user(id: 1) { ...F } } fragment F on User { os }' },
  { name: 'a directive', query: '{ user(id: 1) { os @include(if: false) region_id } }' },
  { name: 'a repeated response key', query: '{ user(id: 1) { os os } }' },
  { name: 'introspection', query: '{ __schema { queryType { name } } }' },
  { name: 'an unknown field', query: '{ user(id: 1) { no_such_feature } }' },
  {
    name: 'candidates ranked by vector similarity (rankBy)',
    query: `{ flea_articles(ids: [1, 2, 3, 4, 5, 7, 9, 11],
      rankBy: {similarityTo: {entity: user, id: 1, feature: interest_vector}, limit: 4}) { id title title_embedding } }`,
  },
];

describe('the GraphQL fast path', () => {
  let fast: TestServer;
  let full: TestServer;
  const now = Date.now();

  beforeAll(async () => {
    [fast, full] = await Promise.all([
      startTestServer({ extraRegistryFiles: EXTRA }),
      startTestServer({ extraRegistryFiles: EXTRA, fastPath: false }),
    ]);
    const writes = data(now);
    await Promise.all([fast.write(writes), full.write(writes)]);
  });
  afterAll(async () => {
    await Promise.all([fast.close(), full.close()]);
  });

  async function both(
    c: Case,
  ): Promise<{ fast: { status: number; text: string }; full: { status: number; text: string } }> {
    const send = async (server: TestServer) => {
      const res = await fetch(`${server.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: c.query, variables: c.variables, operationName: c.operationName }),
      });
      return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
    };
    const [a, b] = await Promise.all([send(fast), send(full)]);
    expect(a.type).toBe(b.type);
    return { fast: a, full: b };
  }

  async function outcome(name: string): Promise<number> {
    const metrics = (await fast.get('/metrics')).text;
    const match = new RegExp(`larder_graphql_fast_path_total\\{outcome="${name}"\\} (\\d+)`).exec(metrics);
    return match === null ? 0 : Number(match[1]);
  }

  for (const [label, cases, expected] of [
    ['answers', ANSWERED, 'answered'],
    ['hands over', HANDED_OVER, 'handed_over'],
    ['leaves to the full executor', NOT_COVERED, 'not_covered'],
  ] as const) {
    for (const c of cases) {
      it(`${label}: ${c.name} — the same answer as GraphQL`, async () => {
        const before = await outcome(expected);
        const { fast: a, full: b } = await both(c);
        expect(a.text).toBe(b.text);
        expect(a.status).toBe(b.status);
        expect(await outcome(expected)).toBe(before + 1);
        if (expected === 'answered') {
          expect(a.status).toBe(200);
          expect(JSON.parse(a.text)).not.toHaveProperty('errors');
        } else if (label === 'hands over') {
          expect((JSON.parse(a.text) as { errors?: unknown[] }).errors?.length).toBeGreaterThan(0);
        }
      });
    }
  }

  it('refuses a syntax error before the fast path, with the same answer either way', async () => {
    const counts = async () => Promise.all(['answered', 'handed_over', 'not_covered'].map(outcome));
    const before = await counts();
    const { fast: a, full: b } = await both({ name: 'a syntax error', query: '{ user(id: 1) { os ' });
    expect(a.text).toBe(b.text);
    expect([a.status, JSON.parse(a.text).errors[0].extensions.code]).toEqual([
      400,
      'LARDER_ERR_QUERY_INVALID',
    ]);
    expect(await counts()).toEqual(before);
  });

  it('compares answers that hold the written data, not two empty ones', async () => {
    const profile = JSON.parse((await both(ANSWERED[0]!)).fast.text) as AnyJson;
    expect(profile.data.user.os).toBe('ios');
    expect(profile.data.user.notification_keywords).toEqual(['lego']);
    expect(profile.data.user.recent_view_articles[0]).toMatchObject({ article_id: 999, article: null });
    expect(profile.data.user.recent_view_articles[1].article.title).toBe('Bike "1" — ü');
    const values = JSON.parse((await both(ANSWERED[8]!)).fast.text) as AnyJson;
    expect(values.data.users[0]).toEqual({
      last_location: { lng: 127.25, lat: 37.5 },
      keyword_scores: { lego: 0.5, bike: 2 },
      notification_keywords: ['lego'],
    });
  });

  it('compares vector answers that hold the float32 values written', async () => {
    const answer = JSON.parse(
      (await both(ANSWERED.find((c) => c.name.startsWith('vectors:'))!)).fast.text,
    ) as AnyJson;
    // JSON writes -0 as 0; every other float32 value as the number it is.
    const json = (v: FloatVector): unknown => JSON.parse(JSON.stringify(Array.from(v)));
    expect(answer.data.users[0].interest_vector).toEqual(json(vector8(2)));
    expect(answer.data.users[1].interest_vector).toBeNull();
    expect(answer.data.users[0].viewed_embeddings[1].embedding).toEqual(json(vector8(6)));
    expect(answer.data.flea_articles.map((a: AnyJson) => a.title_embedding === null)).toEqual([
      false,
      true,
      false,
    ]);
    const ranked = JSON.parse((await both(NOT_COVERED.at(-1)!)).fast.text) as AnyJson;
    expect(ranked.data.flea_articles).toHaveLength(4);
    expect(ranked.data.flea_articles[0].title).toMatch(/^Bike/);
  });

  it('serves a changed joined entity at once (kept row texts follow the entity objects)', async () => {
    const query =
      '{ user(id: 2) { recent_view_articles(input: {count: 2}) { article_id article { title } } } }';
    const first = await both({ name: 'before', query });
    expect(first.fast.text).toContain('Bike \\"12\\"');
    const change = [single('c:flea:', 12, 'title', 'Renamed 12', Date.now() + 60_000)];
    await Promise.all([fast.write(change), full.write(change)]);
    const second = await both({ name: 'after', query });
    expect(second.fast.text).toBe(second.full.text);
    expect(second.fast.text).toContain('Renamed 12');
    expect(second.fast.text).not.toContain('Bike \\"12\\"');
  });

  it('reports a failing read once, as GraphQL would, without reading again', async () => {
    fast.store.reset();
    full.store.reset();
    fast.store.failNext = new Error('secret: connection refused');
    full.store.failNext = new Error('secret: connection refused');
    const { fast: a, full: b } = await both({ name: 'failing', query: '{ user(id: 1) { os } }' });
    expect(a.text).toBe(b.text);
    expect(a.text).not.toContain('secret');
    expect(JSON.parse(a.text)).toMatchObject({
      data: { user: null },
      errors: [{ extensions: { code: 'LARDER_ERR_INTERNAL' } }],
    });
    // The fast path's read failed; the full executor reported it from that failure.
    expect(fast.store.staticCalls).toHaveLength(1);
    expect(full.store.staticCalls).toHaveLength(1);
  });

  it('reads joined entities in one store call per entity type, as the full executor does', async () => {
    fast.store.reset();
    const res = await fast.gql(`{ users(ids: [1, 2, 3]) {
      recent_view_articles(input: {count: 10}) { article { title } }
      again: recent_view_articles(input: {count: 4}) { article { price } } } }`);
    expect(res.body.errors).toBeUndefined();
    expect(await outcome('answered')).toBeGreaterThan(0);
    // One range call for all six reads, one static call for every joined article of the request.
    expect(fast.store.rangeCalls).toHaveLength(1);
    expect(fast.store.rangeCalls[0]).toHaveLength(6);
    expect(fast.store.staticCalls).toHaveLength(1);
    expect(fast.store.staticCalls[0]!.every((pk) => pk.startsWith('c:flea:'))).toBe(true);
  });
});

describe('the GraphQL fast path with the hot entity cache on', () => {
  let fast: TestServer;
  let full: TestServer;

  beforeAll(async () => {
    [fast, full] = await Promise.all([
      // Layered: rows come from the in-process cache level, the same objects each time, so
      // repeats are answered from kept row and list texts.
      startTestServer({ extraRegistryFiles: EXTRA, hotEntityTtlMs: 60_000, layered: true }),
      startTestServer({ extraRegistryFiles: EXTRA, hotEntityTtlMs: 60_000, layered: true, fastPath: false }),
    ]);
    const writes = data(Date.now());
    await Promise.all([fast.write(writes), full.write(writes)]);
  });
  afterAll(async () => {
    await Promise.all([fast.close(), full.close()]);
  });

  it('gives the same answers on repeats, when texts come from the kept entity objects', async () => {
    for (let pass = 0; pass < 3; pass++) {
      for (const c of ANSWERED) {
        const body = JSON.stringify({
          query: c.query,
          variables: c.variables,
          operationName: c.operationName,
        });
        const [a, b] = await Promise.all(
          [fast, full].map(async (s) => {
            const res = await fetch(`${s.base}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            });
            return res.text();
          }),
        );
        expect(a, `${c.name}, pass ${pass}`).toBe(b);
      }
    }
  });
});

describe('the GraphQL fast path with rows kept by the local cache level, hot entity cache off', () => {
  let fast: TestServer;
  let full: TestServer;

  beforeAll(async () => {
    // Rows come from the in-process cache level, the same objects each time, while joined
    // entities are read for each request: a row's kept text must follow them.
    [fast, full] = await Promise.all([
      startTestServer({ extraRegistryFiles: EXTRA, layered: true }),
      startTestServer({ extraRegistryFiles: EXTRA, layered: true, fastPath: false }),
    ]);
    const writes = data(Date.now());
    await Promise.all([fast.write(writes), full.write(writes)]);
  });
  afterAll(async () => {
    await Promise.all([fast.close(), full.close()]);
  });

  it('serves a changed joined entity at once, though its rows are kept', async () => {
    const query =
      '{ user(id: 3) { recent_view_articles(input: {count: 2}) { article_id article { title } } } }';
    const answers = async (): Promise<[string, string]> =>
      (await Promise.all(
        [fast, full].map(async (s) => {
          const res = await fetch(`${s.base}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query }),
          });
          return res.text();
        }),
      )) as [string, string];
    for (let pass = 0; pass < 2; pass++) {
      const [a, b] = await answers();
      expect(a).toBe(b);
      expect(a).toContain('Bike \\"22\\"');
    }
    const change = [single('c:flea:', 22, 'title', 'Renamed 22', Date.now() + 60_000)];
    await Promise.all([fast.write(change), full.write(change)]);
    const [a, b] = await answers();
    expect(a).toBe(b);
    expect(a).toContain('Renamed 22');
  });
});
