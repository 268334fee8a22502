import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FloatVector } from '../../src/keys/float-vector.ts';
import { single, startTestServer, type AnyJson, type TestServer } from './support/test-server.ts';

/**
 * `vector(N)` features served by a real server (LMDB store, HTTP): `[Float!]` in GraphQL and
 * REST, values ingested by push, and `rankBy` on batch root fields.
 */

const VECTORS = {
  'vectors.yaml': `
features:
  user:
    interest_vector:
      events: [{streamName: ev, topic: t, subTopic: interest, fields: [{name: interest_vector, type: "vector(3)"}]}]
    wide_vector:
      events: [{streamName: ev, topic: t, subTopic: wide, fields: [{name: wide_vector, type: "vector(5)"}]}]
    viewed_embeddings:
      featureType: action
      events: [{streamName: ev, topic: t, subTopic: seen, fields: [{name: embedding, type: "vector(3)"}, {name: article_id, type: int}]}]
  flea_article:
    title_embedding:
      events: [{streamName: ev, topic: emb, fields: [{name: title_embedding, type: "vector(3)"}]}]
  seller:
    style:
      events: [{streamName: ev, topic: style, fields: [{name: style, type: "vector(3)"}]}]
    other_style:
      events: [{streamName: ev, topic: style2, fields: [{name: other_style, type: "vector(3)"}]}]
`,
};

const vec = (...xs: number[]): FloatVector => {
  const v = new FloatVector(xs.length);
  xs.forEach((x, i) => (v[i] = x));
  return v;
};

/** Cosine similarity in float64 over the float32 values, as the server computes it. */
function cosine(a: readonly number[], b: readonly number[]): number {
  const dot = (x: readonly number[], y: readonly number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
  return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
}

describe('vector features, served', () => {
  let server: TestServer;
  const articles: Record<number, number[]> = {
    1: [1, 0, 0],
    2: [0, 1, 0],
    3: [0.7, 0.7, 0.1],
    4: [0.9, 0.1, 0],
    5: [-1, 0, 0],
    6: [0, 0, 0], // a zero vector: no direction, left out of rankings
    7: [0.9, 0.1, 0], // the same as 4: a tie, kept in the order of ids
  };

  beforeAll(async () => {
    server = await startTestServer({ extraRegistryFiles: VECTORS, limits: { maxIdsPerQuery: 3000 } });
    await server.write([
      single('u:', 1, 'interest_vector', vec(1, 0.2, 0)),
      single('u:', 2, 'wide_vector', vec(1, 2, 3, 4, 5)),
      single('u:', 3, 'interest_vector', vec(0, 0, 0)),
      ...Object.entries(articles).map(([id, v]) => single('c:flea:', id, 'title_embedding', vec(...v))),
      single('c:flea:', 1, 'title', 'one'),
      single('c:flea:', 4, 'title', 'four'),
    ]);
  });
  afterAll(async () => {
    await server.close();
  });

  it('types a vector field as [Float!] in the schema', async () => {
    const res = await server.gql(
      '{ __type(name: "User") { fields { name type { kind ofType { kind name } } } } }',
    );
    const field = (res.body.data as AnyJson).__type.fields.find(
      (f: { name: string }) => f.name === 'interest_vector',
    );
    expect(field.type).toEqual({ kind: 'LIST', ofType: { kind: 'NON_NULL', name: null } });
  });

  it('serves the float32 values, and null where there is none', async () => {
    const res = await server.gql('{ users(ids: [1, 2]) { interest_vector wide_vector } }');
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({
      users: [
        { interest_vector: [1, Math.fround(0.2), 0], wide_vector: null },
        { interest_vector: null, wide_vector: [1, 2, 3, 4, 5] },
      ],
    });
  });

  it('ingests pushed vectors, and rejects a bad one with a clear code while keeping the rest', async () => {
    const now = Date.now();
    const res = await server.post('/v1/streams/ev/t', [
      { event_id: 'v1', name: 'interest', user_id: 11, ts: now, interest_vector: [0.5, 0.25, -1] },
      { event_id: 'v2', name: 'interest', user_id: 12, ts: now, interest_vector: [0.5, 0.25] },
      { event_id: 'v3', name: 'interest', user_id: 13, ts: now, interest_vector: [0.5, 'x', 1] },
      { event_id: 'v4', name: 'interest', user_id: 14, ts: now, interest_vector: [1e39, 0, 1] },
      { event_id: 'v5', name: 'seen', user_id: 11, ts: now, article_id: 3, embedding: [0.1, 0.2, 0.3] },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, rejected: 3 });
    const rejections = res.body.rejections as { index: number; code: string; message: string }[];
    expect(rejections.map((r) => [r.index, r.code])).toEqual([
      [1, 'LARDER_ERR_EVENT_VECTOR'],
      [2, 'LARDER_ERR_EVENT_VECTOR'],
      [3, 'LARDER_ERR_EVENT_VECTOR'],
    ]);
    expect(rejections[0]!.message).toContain('expects vector(3), got an array of 2 elements');
    expect(rejections[1]!.message).toContain('element 1 string "x" (not a number)');
    expect(rejections[2]!.message).toContain('beyond the float32 range');

    const served = await server.gql(
      '{ user(id: 11) { interest_vector viewed_embeddings { embedding article_id } } }',
    );
    expect(served.body.data).toEqual({
      user: {
        interest_vector: [0.5, 0.25, -1],
        viewed_embeddings: [
          { embedding: [Math.fround(0.1), Math.fround(0.2), Math.fround(0.3)], article_id: 3 },
        ],
      },
    });
  });

  it('serves vectors over REST as arrays of numbers', async () => {
    const res = await server.post('/v1/features', {
      entity: 'user',
      ids: [1],
      features: [{ name: 'interest_vector' }],
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ id: '1', features: { interest_vector: [1, Math.fround(0.2), 0] } }]);
  });

  it('ranks candidates by cosine similarity, leaving out those without a vector', async () => {
    const res = await server.gql(`{ flea_articles(ids: [1, 2, 3, 4, 5, 6, 7, 99],
      rankBy: {similarityTo: {entity: user, id: 1, feature: interest_vector}, limit: 20}) { id title } }`);
    expect(res.body.errors).toBeUndefined();
    const user = [1, Math.fround(0.2), 0];
    const expected = Object.entries(articles)
      .filter(([, v]) => v.some((x) => x !== 0))
      .map(([id, v]) => ({ id, score: cosine(user, v.map(Math.fround)) }))
      .sort((a, b) => b.score - a.score || Number(a.id) - Number(b.id))
      .map((s) => s.id);
    const ids = (res.body.data as AnyJson).flea_articles.map((a: { id: string }) => a.id);
    expect(ids).toEqual(expected);
    // 4 and 7 tie; they keep the order of ids. 6 (zero) and 99 (none) are left out.
    expect(ids.slice(0, 3)).toEqual(['4', '7', '1']);
    expect(ids).not.toContain('6');
    expect(ids).not.toContain('99');
    expect((res.body.data as AnyJson).flea_articles[0]).toEqual({ id: '4', title: 'four' });
  });

  it('keeps the top `limit`, counts a duplicate id once, and takes variables', async () => {
    const res = await server.gql(
      `query R($ids: [ID!]!, $user: ID!, $n: Int) { flea_articles(ids: $ids,
        rankBy: {similarityTo: {entity: user, id: $user, feature: interest_vector}, limit: $n}) { id title_embedding } }`,
      { ids: [5, 1, 1, 2], user: '1', n: 2 },
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({
      flea_articles: [
        { id: '1', title_embedding: [1, 0, 0] },
        { id: '2', title_embedding: [0, 1, 0] },
      ],
    });
  });

  it('reads the target and every candidate vector in one store call', async () => {
    server.store.reset();
    const ids = Array.from({ length: 2000 }, (_, i) => i + 1);
    const res = await server.gql(
      `query R($ids: [ID!]!) { flea_articles(ids: $ids,
        rankBy: {similarityTo: {entity: user, id: 1, feature: interest_vector}, limit: 2}) { id title } }`,
      { ids },
    );
    expect(res.body.errors).toBeUndefined();
    expect((res.body.data as AnyJson).flea_articles).toEqual([
      { id: '4', title: 'four' },
      { id: '7', title: null },
    ]);
    // First call: u:1's vector and 2,000 candidate vectors; second: the titles of the two kept.
    expect(server.store.staticCalls).toHaveLength(2);
    expect(server.store.staticCalls[0]).toHaveLength(2001);
    expect(server.store.staticCalls[1]).toEqual(['c:flea:4#title', 'c:flea:7#title']);
  });

  it("ranks candidates of the target's own entity type, the target among them", async () => {
    const res = await server.gql(`{ flea_articles(ids: [1, 7, 4, 2],
      rankBy: {similarityTo: {entity: flea_article, id: 4, feature: title_embedding}, limit: 3}) { id } }`);
    // 7 holds the same vector as 4: the same score, so the order of ids decides.
    expect(res.body).toEqual({ data: { flea_articles: [{ id: '7' }, { id: '4' }, { id: '1' }] } });
  });

  it('answers [] when the target has no vector (or a zero one)', async () => {
    for (const id of [42, 3]) {
      const res = await server.gql(`{ flea_articles(ids: [1, 2],
        rankBy: {similarityTo: {entity: user, id: ${id}, feature: interest_vector}}) { id } }`);
      expect(res.body).toEqual({ data: { flea_articles: [] } });
    }
  });

  it('names the problem when the feature is not a vector of the same dimension', async () => {
    const cases: [string, string][] = [
      [
        '{entity: user, id: 2, feature: wide_vector}',
        'rankBy: flea_article has no vector(5) feature to compare with user.wide_vector; its vector features: title_embedding: vector(3)',
      ],
      [
        '{entity: user, id: 1, feature: title_embedding}',
        'rankBy.similarityTo: user has no vector feature "title_embedding"; its vector features: interest_vector: vector(3), wide_vector: vector(5)',
      ],
    ];
    for (const [target, message] of cases) {
      const res = await server.gql(`{ flea_articles(ids: [1], rankBy: {similarityTo: ${target}}) { id } }`);
      expect(res.body.data).toBeNull();
      expect(res.body.errors?.[0]).toMatchObject({ message, extensions: { code: 'LARDER_ERR_RANK_BY' } });
    }
    const wide = await server.gql(`{ flea_articles(ids: [1],
      rankBy: {similarityTo: {entity: user, id: 2, feature: wide_vector}, feature: title_embedding}) { id } }`);
    expect(wide.body.errors?.[0]).toMatchObject({
      message:
        'rankBy: user.wide_vector is vector(5) but flea_article.title_embedding is vector(3); only vectors of one dimension compare',
      extensions: { code: 'LARDER_ERR_RANK_BY' },
    });
    const several = await server.gql(`{ sellers(ids: ["a"],
      rankBy: {similarityTo: {entity: user, id: 1, feature: interest_vector}}) { id } }`);
    expect(several.body.errors?.[0]?.message).toContain(
      'seller has several vector(3) features (style, other_style); name one with rankBy.feature',
    );
    const named = await server.gql(`{ sellers(ids: ["a"],
      rankBy: {similarityTo: {entity: user, id: 1, feature: interest_vector}, feature: other_style}) { id } }`);
    expect(named.body).toEqual({ data: { sellers: [] } });
  });

  it('refuses an unknown entity or feature name before running, as GraphQL validation', async () => {
    const res = await server.gql(
      '{ flea_articles(ids: [1], rankBy: {similarityTo: {entity: usr, id: 1, feature: interest_vector}}) { id } }',
    );
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('LARDER_ERR_QUERY_INVALID');
    expect(res.body.errors?.[0]?.message).toContain('usr');
  });
});
