import fc from 'fast-check';

/**
 * Generated GraphQL requests for the fuzz properties (http-fuzz-graphql.test.ts):
 *
 * - `validDocument`: documents valid for the serving test schema (roots with literal ids, nested
 *   action rows and joins, aliases, inline fragments, counts past a feature's maxCount, and a chain
 *   of fragments each spreading the next one to three times), with or without variables;
 * - `document`: documents assembled from names valid and not: fragment graphs with cycles and
 *   unknown or misplaced fragments, colliding aliases, nesting past the depth limit, directives,
 *   variables of wrong types, mutations and subscriptions, introspection;
 * - `notGraphQL`: texts that are not (quite) GraphQL: mutated, truncated, binary, bracket runs,
 *   JSON;
 * - `body`: a POST body of any of those with variables of every JSON shape, operation names and
 *   persisted-query extensions.
 */

const LEAVES = [
  'os',
  'region_id',
  'notification_keywords',
  'id',
  '__typename',
  'title',
  'price',
  'nope',
  '__proto__',
];
const INT_EDGES = [
  '0',
  '-1',
  '1',
  '2147483647',
  '2147483648',
  '9007199254740993',
  '1e400',
  '-0',
  '1.5',
  '"7"',
  'null',
];

const alias = fc.option(fc.constantFrom('a', 'b', 'os', 'x1', 'constructor'), { nil: undefined, freq: 3 });
const withAlias = (text: string, name: string | undefined): string =>
  name === undefined ? text : `${name}: ${text}`;

const intValue = fc.oneof(fc.constantFrom(...INT_EDGES), fc.constantFrom('$a', '$i', '$ids', '$b'));
const actionInput = fc.oneof(
  fc.constant(''),
  intValue.map((n) => `(input: {count: ${n}})`),
  fc
    .tuple(
      intValue,
      intValue,
      fc.constantFrom('source', 'article_id', 'nope', ''),
      fc.constantFrom('"feed"', '7', '[1, 2]', '{}'),
    )
    .map(
      ([count, last, field, value]) =>
        `(input: {count: ${count}, lastNSec: ${last}, filter: [{field: "${field}", eq: ${value}}]})`,
    ),
  fc.constant('(input: $i)'),
);

/** A selection set of at most `depth` levels (generated depths run past the server's limit of 10). */
const selectionSet: fc.Memo<string> = fc.memo((depth): fc.Arbitrary<string> => {
  const leaf = fc.tuple(fc.constantFrom(...LEAVES), alias).map(([f, a]) => withAlias(f, a));
  const spread = fc.nat(7).map((n) => `...F${n}`);
  const directive = fc
    .tuple(
      fc.constantFrom(...LEAVES),
      fc.constantFrom('@include(if: true)', '@skip(if: $b)', '@skip(if: 1)', '@nope'),
    )
    .map(([f, d]) => `${f} ${d}`);
  const selection: fc.Arbitrary<string> =
    depth <= 1
      ? fc.oneof(
          { weight: 6, arbitrary: leaf },
          { weight: 2, arbitrary: spread },
          { weight: 1, arbitrary: directive },
        )
      : fc.oneof(
          { weight: 6, arbitrary: leaf },
          { weight: 2, arbitrary: spread },
          { weight: 1, arbitrary: directive },
          {
            weight: 3,
            arbitrary: fc
              .tuple(alias, actionInput, selectionSet(depth - 1))
              .map(([a, input, set]) => withAlias(`recent_view_articles${input} ${set}`, a)),
          },
          {
            weight: 2,
            arbitrary: fc
              .tuple(alias, selectionSet(depth - 1))
              .map(([a, set]) => withAlias(`article ${set}`, a)),
          },
          {
            weight: 1,
            arbitrary: fc
              .tuple(fc.constantFrom('User', 'FleaArticle', 'Nope'), selectionSet(depth - 1))
              .map(([type, set]) => `... on ${type} ${set}`),
          },
        );
  return fc.array(selection, { minLength: 0, maxLength: 6 }).map((list) => `{ ${list.join(' ')} }`);
});

const root = fc.oneof(
  fc.tuple(alias, intValue, selectionSet(12)).map(([a, id, set]) => withAlias(`user(id: ${id}) ${set}`, a)),
  fc
    .tuple(alias, fc.array(fc.constantFrom(...INT_EDGES), { maxLength: 5 }), selectionSet(6))
    .map(([a, ids, set]) => withAlias(`users(ids: [${ids.join(', ')}]) ${set}`, a)),
  fc.tuple(alias, selectionSet(6)).map(([a, set]) => withAlias(`users(ids: $ids) ${set}`, a)),
  fc.tuple(alias, selectionSet(6)).map(([a, set]) => withAlias(`flea_article(id: $a) ${set}`, a)),
  fc.constantFrom(
    '__typename',
    '_registryVersion',
    '__schema { queryType { name } }',
    '__type(name: "User") { name }',
  ),
);

/** Fragments F0..Fn: each on some type, spreading others (cycles included) or the next one k times. */
const fragments = fc.oneof(
  fc
    .array(fc.tuple(fc.constantFrom('User', 'User', 'FleaArticle', 'Query', 'Nope'), selectionSet(4)), {
      maxLength: 8,
    })
    .map((defs) => defs.map(([type, set], i) => `fragment F${i} on ${type} ${set}`).join('\n')),
  fc
    .tuple(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 4 }),
      fc.constantFrom('os', 'recent_view_articles { article_id }'),
    )
    .map(
      ([levels, copies, field]) =>
        Array.from(
          { length: levels },
          (_, i) => `fragment F${i} on User { ${field} ${`...F${i + 1} `.repeat(copies)}}`,
        ).join('\n') + `\nfragment F${levels} on User { ${field} }`,
    ),
);

const variableDefs = fc
  .subarray(['$a: Int', '$ids: [ID!]!', '$i: ActionFeatureInput', '$b: Boolean!', '$a: ID', '$z: Nope'])
  .map((defs) => (defs.length === 0 ? '' : `(${defs.join(', ')})`));

export const document = fc
  .tuple(
    fc.constantFrom('query', 'query Q', 'query __proto__', 'mutation', 'subscription', ''),
    variableDefs,
    fc.array(root, { minLength: 1, maxLength: 4 }),
    fragments,
  )
  .map(([op, vars, roots, frags]) => `${op === '' ? '' : `${op}${vars} `}{ ${roots.join(' ')} }\n${frags}`);

/** Texts that are not (quite) GraphQL: mutated, truncated, binary, bracket runs, JSON. */
export const notGraphQL = fc.oneof(
  fc.tuple(document, fc.nat(), fc.string({ unit: 'binary', maxLength: 8 })).map(([doc, at, junk]) => {
    const i = at % (doc.length + 1);
    return doc.slice(0, i) + junk + doc.slice(i);
  }),
  fc.tuple(document, fc.nat()).map(([doc, at]) => doc.slice(0, at % (doc.length + 1))),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .tuple(fc.constantFrom('{', '[', '(', '{ a ', '"""'), fc.integer({ min: 1, max: 6_000 }))
    .map(([s, n]) => s.repeat(n)),
  fc.constantFrom(
    'null',
    '42',
    '[1]',
    '{"kind":"Document","definitions":[]}',
    '# only a comment',
    '',
    '\u0000',
    '\ud800',
  ),
);

/** The serving test schema, as far as valid documents need it: leaves and object fields by type. */
const SCHEMA: Record<
  string,
  { leaves: string[]; objects: Record<string, [type: string, args: 'input' | '']> }
> = {
  User: {
    leaves: ['id', 'os', 'region_id', 'notification_keywords', '__typename'],
    objects: {
      recent_view_articles: ['UserRecentViewArticlesRow', 'input'],
      recent_search_keywords: ['UserRecentSearchKeywordsRow', 'input'],
    },
  },
  UserRecentViewArticlesRow: {
    leaves: ['article_id', 'source', 'timestamp'],
    objects: { article: ['FleaArticle', ''] },
  },
  UserRecentSearchKeywordsRow: { leaves: ['keyword', 'timestamp'], objects: {} },
  FleaArticle: {
    leaves: ['id', 'title', 'price', 'category', 'seller_id'],
    objects: { recent_buyers: ['FleaArticleRecentBuyersRow', 'input'] },
  },
  FleaArticleRecentBuyersRow: {
    leaves: ['buyer_id', 'seller_id', 'timestamp'],
    objects: { seller: ['Seller', ''] },
  },
  Seller: { leaves: ['id', 'nickname'], objects: {} },
};

const count = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom(50, 100, 101, 1_000));

/** A selection set valid for `type` (or nearly: counts may pass a feature's maxCount). */
function validSet(type: string, depth: number): fc.Arbitrary<string> {
  const def = SCHEMA[type] as (typeof SCHEMA)[string];
  const leaf = fc
    .tuple(fc.constantFrom(...def.leaves), fc.option(fc.nat(3), { nil: undefined, freq: 2 }))
    .map(([f, n]) => (n === undefined ? f : `${f}_${n}: ${f}`));
  const objects = Object.entries(def.objects);
  const parts: fc.Arbitrary<string>[] = [leaf, leaf, leaf];
  if (depth > 1 && objects.length > 0) {
    parts.push(
      fc
        .tuple(
          fc.constantFrom(...objects),
          fc.option(count, { nil: undefined }),
          fc.option(fc.nat(10 ** 6), { nil: undefined }),
          fc.nat(999),
        )
        .chain(([[name, [child, args]], n, last, key]) => {
          const input =
            args === 'input' && (n !== undefined || last !== undefined)
              ? `(input: {${n === undefined ? '' : `count: ${n} `}${last === undefined ? '' : `lastNSec: ${last}`}})`
              : '';
          // Its own response name: the same field with other arguments beside it is a conflict.
          return validSet(child, depth - 1).map((set) => `${name}_${key}: ${name}${input} ${set}`);
        }),
    );
    parts.push(validSet(type, depth - 1).map((set) => `... on ${type} ${set}`));
  }
  return fc.array(fc.oneof(...parts), { minLength: 1, maxLength: 5 }).map((list) => `{ ${list.join(' ')} }`);
}

const smallId = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom('"2"', '"x"', '9007199254740993'));

/** Roots with literal arguments, and a chain of fragments each spreading the next `copies` times. */
export const validDocument = fc
  .tuple(
    fc.array(
      fc.oneof(
        fc.tuple(smallId, validSet('User', 5)).map(([id, set]) => `user(id: ${id}) ${set}`),
        fc
          .tuple(fc.array(smallId, { maxLength: 4 }), validSet('FleaArticle', 4))
          .map(([ids, set]) => `flea_articles(ids: [${ids.join(', ')}]) ${set}`),
        fc.tuple(smallId, validSet('Seller', 1)).map(([id, set]) => `seller(id: ${id}) ${set}`),
        fc.constantFrom('_registryVersion', '__typename'),
      ),
      { minLength: 1, maxLength: 3 },
    ),
    fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 4 }) }, fc.integer({ min: 5, max: 12 })),
    fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, fc.integer({ min: 2, max: 3 })),
    validSet('User', 3),
    fc.boolean(),
  )
  .map(([roots, levels, copies, body, withVariables]) => {
    const chain =
      levels === 0
        ? ''
        : Array.from({ length: levels }, (_, i) =>
            i + 1 < levels
              ? `fragment C${i} on User ${body.slice(0, -1)} ${`...C${i + 1} `.repeat(copies)}}`
              : `fragment C${i} on User ${body}`,
          ).join('\n');
    const all = roots.map((r, i) => `r${i}: ${r}`);
    if (levels > 0) all.push('c: user(id: 1) { ...C0 }');
    if (!withVariables) return `{ ${all.join(' ')} }\n${chain}`;
    all.push(
      'v: user(id: $id) { recent_search_keywords(input: {count: $n}) { keyword } }',
      'vs: users(ids: $ids) { id }',
    );
    return `query Q($id: ID!, $n: Int, $ids: [ID!]!) { ${all.join(' ')} }\n${chain}`;
  });

export const variableValue = fc.oneof(
  fc.integer({ min: 0, max: 60 }),
  fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(
    0,
    -1,
    1.5,
    2 ** 31,
    2 ** 53 + 2,
    -0,
    'x\u0000y',
    '\ud800',
    [1, 2, 3],
    { count: 3 },
    { count: -5 },
    { filter: [{ field: 'source', eq: 'feed' }] },
  ),
  fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 1_200 }),
);

/** Values for `$id`, `$n` and `$ids` of `validDocument`: mostly of the right type. */
export const validVariables = fc.record({
  id: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 5 }) }, variableValue),
  n: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 20 }) }, variableValue),
  ids: fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 4 }) },
    variableValue,
  ),
});

export const body = fc.record({
  query: fc.oneof(
    { weight: 6, arbitrary: validDocument },
    { weight: 4, arbitrary: document },
    { weight: 2, arbitrary: notGraphQL },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  ),
  variables: fc.oneof(
    { weight: 4, arbitrary: validVariables },
    {
      weight: 2,
      arbitrary: fc.dictionary(fc.constantFrom('a', 'ids', 'i', 'b', 'z', '__proto__'), variableValue, {
        maxKeys: 4,
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom(null, 5, 'x', []) },
  ),
  // JSON.stringify leaves the undefined ones out.
  operationName: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constantFrom('Q', '__proto__', '', 'nope') },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  ),
  extensions: fc.oneof(
    { weight: 8, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } },
        { persistedQuery: 5 },
        null,
      ),
    },
  ),
});
