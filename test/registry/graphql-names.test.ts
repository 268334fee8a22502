import { describe, expect, it } from 'vitest';
import { buildServingSchema } from '../../src/serve/graphql-schema.ts';
import { compileFiles, issueLine } from './write-registry.ts';

/** A registry of one static feature `os` per entity name given, and the extra YAML. */
function entities(names: readonly string[], extra = ''): string {
  const groups = names
    .map(
      (name) => `  ${name}:
    os:
      events: [{ streamName: s, topic: t, fields: [{ name: os, type: string }] }]
`,
    )
    .join('');
  return `features:\n${groups}${extra}`;
}

const lines = (yaml: string): string[] => compileFiles({ 'spec.yaml': yaml }).issues.map(issueLine);

describe('names the GraphQL schema cannot take are refused by the registry, with their place', () => {
  it.each(['Query', 'JSON', 'long', 'string', 'Boolean', 'ID', 'ActionFeatureInput', 'actionRowFilter'])(
    'entity "%s" would be a built-in GraphQL type',
    (name) => {
      const found = lines(entities([name]));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(
        /^2:3 LARDER_ERR_SPEC_GRAPHQL_NAME entity ".*" is GraphQL type ".*", a built-in type/,
      );
    },
  );

  it('two entities that make one GraphQL type', () => {
    expect(lines(entities(['user_x', 'userX']))).toEqual([
      '5:3 LARDER_ERR_SPEC_GRAPHQL_NAME entity "userX" is GraphQL type "UserX", which is already the type of entity "user_x"',
    ]);
  });

  it('an entity whose GraphQL type name would be empty', () => {
    expect(lines(entities(['_']))).toEqual([
      '2:3 LARDER_ERR_SPEC_GRAPHQL_NAME entity "_" has no letters or digits: its GraphQL type name would be empty',
    ]);
  });

  it("a static feature's value type that is another feature's row type", () => {
    const yaml = `features:
  user:
    a:
      featureType: action
      events: [{ streamName: s, topic: t, fields: [{ name: x, type: int }] }]
    a_row:
      events: [{ streamName: s, topic: t, fields: [{ name: x, type: int }, { name: y, type: int }] }]
`;
    expect(lines(yaml)).toEqual([
      '6:5 LARDER_ERR_SPEC_GRAPHQL_NAME static feature "user.a_row" is GraphQL type "UserARow", which is already the type of action feature "user.a"',
    ]);
  });

  it('an entity named like the built-in root field', () => {
    expect(lines(entities(['_registryVersion']))).toEqual([
      '2:3 LARDER_ERR_SPEC_ROOT_CONFLICT entity "_registryVersion" collides with the built-in root field _registryVersion',
    ]);
  });

  it.each([
    [
      'feature',
      'features:\n  user:\n    constructor:\n      events: [{ streamName: s, topic: t, fields: [{ name: os, type: string }] }]\n',
      '3:5',
    ],
    [
      'feature',
      'features:\n  user:\n    toString:\n      events: [{ streamName: s, topic: t, fields: [{ name: os, type: string }] }]\n',
      '3:5',
    ],
    ['entity', entities(['hasOwnProperty']), '2:3'],
    [
      'field',
      'features:\n  user:\n    os:\n      events: [{ streamName: s, topic: t, fields: [{ name: valueOf, type: string }] }]\n',
      '4:60',
    ],
  ])('a %s named like a property of every JavaScript object', (_kind, yaml, place) => {
    const found = lines(yaml);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      new RegExp(
        `^${place} LARDER_ERR_SPEC_RESERVED .*is reserved: every JavaScript object has a property of that name`,
      ),
    );
  });

  it('every registry these cases build without the refused name serves', () => {
    for (const yaml of [entities(['user', 'query_log', 'json_doc']), entities(['userX', 'user_y'])]) {
      const { registry, issues } = compileFiles({ 'spec.yaml': yaml });
      expect(issues).toEqual([]);
      expect(() => buildServingSchema(registry!)).not.toThrow();
    }
  });
});
