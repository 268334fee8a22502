import { describe, expect, it } from 'vitest';
import { isLarderError } from '../../src/errors.ts';
import { pascalCase } from '../../src/registry/graphql-names.ts';
import { buildServingSchema, printServingSchema } from '../../src/serve/graphql-schema.ts';
import { marketplaceRegistry } from './marketplace-registry.ts';
import { entity, feature, registry } from '../support/registry-builder.ts';

/** The SDL block of one type, `type X {...}` / `input X {...}`, without descriptions. */
function typeBlock(sdl: string, name: string): string {
  const match = new RegExp(`^(type|input|scalar) ${name}\\b[^\\n]*(\\n(  .*|\\s*)*?\\n})?`, 'm').exec(sdl);
  if (match === null) throw new Error(`type ${name} not in SDL`);
  return match[0]
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\s*(""".*|"[^"].*"|.*""")\s*$/.test(line))
    .join('\n');
}

describe('buildServingSchema', () => {
  const sdl = printServingSchema(buildServingSchema(marketplaceRegistry({ version: 'v1' })));

  it('generates root fields for each entity and its plural', () => {
    expect(typeBlock(sdl, 'Query')).toBe(
      [
        'type Query {',
        '  _registryVersion: String!',
        '  user(id: ID!): User',
        '  users(ids: [ID!]!): [User]!',
        '  flea_article(id: ID!): FleaArticle',
        '  flea_articles(ids: [ID!]!): [FleaArticle]!',
        '}',
      ].join('\n'),
    );
  });

  it('maps every feature shape and field type', () => {
    expect(typeBlock(sdl, 'User')).toBe(
      [
        'type User {',
        '  id: ID!',
        '  os: String',
        '  region_id: Long',
        '  profile: UserProfile',
        '  settings: JSON',
        '  lucky_numbers: [Long]',
        '  notification_keywords: [String]',
        '  addresses: [UserAddresses]',
        '  category_affinity: JSON',
        '  recent_view_articles(input: ActionFeatureInput): [UserRecentViewArticlesRow!]!',
        '  recent_search_keywords(input: ActionFeatureInput): [UserRecentSearchKeywordsRow!]!',
        '}',
      ].join('\n'),
    );
    expect(typeBlock(sdl, 'UserProfile')).toBe(
      'type UserProfile {\n  age: Long\n  score: Float\n  vip: Boolean\n}',
    );
    expect(typeBlock(sdl, 'UserAddresses')).toBe('type UserAddresses {\n  city: String\n  zip: String\n}');
    expect(typeBlock(sdl, 'UserRecentSearchKeywordsRow')).toBe(
      'type UserRecentSearchKeywordsRow {\n  keyword: String\n  result_count: Long\n  timestamp: Long!\n}',
    );
    expect(typeBlock(sdl, 'ActionFeatureInput')).toBe(
      'input ActionFeatureInput {\n  count: Int\n  lastNSec: Int\n  filter: [ActionRowFilter!]\n}',
    );
    expect(typeBlock(sdl, 'FleaArticle')).toBe(
      'type FleaArticle {\n  id: ID!\n  title: String\n  price: Long\n}',
    );
    expect(sdl).toMatch(/^scalar Long$/m);
    expect(sdl).toMatch(/^scalar JSON$/m);
  });

  it('carries feature descriptions into the schema', () => {
    expect(sdl).toContain('"""Operating system."""\n  os: String');
  });

  it('serves an entity without features as just its id', () => {
    const built = buildServingSchema(registry({ entities: [entity('shop')], features: [] }));
    expect(typeBlock(printServingSchema(built), 'Shop')).toBe('type Shop {\n  id: ID!\n}');
  });

  it('refuses registry names that clash in GraphQL with LARDER_ERR_SPEC_GRAPHQL_NAME', () => {
    const cases = [
      // `user_x` and `userX` are both type `UserX`.
      registry({ entities: [entity('user_x'), entity('userX', { plural: 'userXes' })], features: [] }),
      // An entity's plural is another entity's name.
      registry({ entities: [entity('item'), entity('items')], features: [] }),
      // An entity named like a built-in type.
      registry({ entities: [entity('long', { plural: 'longs' })], features: [] }),
      // A static feature type colliding with an action row type.
      registry({
        entities: [entity('a')],
        features: [
          feature('a', 'b_row', { fields: { x: 'int', y: 'int' } }),
          feature('a', 'b', { featureType: 'action', fields: { x: 'int' } }),
        ],
      }),
    ];
    for (const reg of cases) {
      let caught: unknown;
      try {
        buildServingSchema(reg);
      } catch (err) {
        caught = err;
      }
      expect(isLarderError(caught) && caught.code).toBe('LARDER_ERR_SPEC_GRAPHQL_NAME');
    }
  });

  it('is pure: the same registry gives the same SDL, and builds fast', () => {
    const reg = marketplaceRegistry({ version: 'v1' });
    expect(printServingSchema(buildServingSchema(reg))).toBe(sdl);
    expect(buildServingSchema(reg).registryVersion).toBe('v1');
  });

  it('handles a registry of 1,000 features', () => {
    const features = Array.from({ length: 1000 }, (_, i) =>
      feature(
        'user',
        `f${i}`,
        i % 2 === 0 ? { fields: { v: 'int' } } : { featureType: 'action', fields: { v: 'string' } },
      ),
    );
    const built = buildServingSchema(registry({ entities: [entity('user')], features }));
    expect(Object.keys(built.schema.getQueryType()!.getFields())).toHaveLength(3);
    expect(Object.keys((built.schema.getType('User') as { getFields(): object }).getFields())).toHaveLength(
      1001,
    );
  });
});

describe('pascalCase', () => {
  it('turns snake_case into type names', () => {
    expect(pascalCase('flea_article')).toBe('FleaArticle');
    expect(pascalCase('recent_view_articles')).toBe('RecentViewArticles');
    expect(pascalCase('user')).toBe('User');
  });
});
