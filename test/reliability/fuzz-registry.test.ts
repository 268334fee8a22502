import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ERROR_CATALOG } from '../../src/errors.ts';
import { compileRegistry } from '../../src/registry/compile-registry.ts';
import type { SpecIssue } from '../../src/registry/types.ts';
import { buildServingSchema } from '../../src/serve/graphql-schema.ts';
import { FUZZ_RUNS, recordInputs } from './support/fuzz-budget.ts';

/**
 * The registry loader against hostile input. Every generated registry must come back, in bounded
 * time, either compiled or as issues that each carry a catalog code and a place; and whatever the
 * loader accepts, the GraphQL schema must take (the one acceptance of validate, serve and reload).
 */

const HOSTILE_NAMES = [
  'constructor',
  'toString',
  '__proto__',
  'valueOf',
  'hasOwnProperty',
  'Query',
  'JSON',
  'long',
  'string',
  'Boolean',
  '_',
  '__x',
  '_registryVersion',
  'id',
  'timestamp',
  'user',
  'user_x',
  'userX',
  'a_row',
  'a',
  'x'.repeat(300),
  'ünï',
  'a b',
  '1a',
  '',
];

const name = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z_]{0,8}$/) },
);

/** A value of the wrong kind for whatever key it lands under. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

/** Either a plausible value or junk, so that every key is also tried with a wrong type. */
const maybe = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: junk });

const fieldType = maybe(
  fc.constantFrom('int', 'float', 'string', 'bool', 'json', 'list<int>', 'list<list<int>>'),
);

const fieldDef = maybe(
  fc.record(
    { name: name, type: fieldType, rename: maybe(name), required: maybe(fc.boolean()) },
    { requiredKeys: ['name', 'type'] },
  ),
);

const eventDef = maybe(
  fc.record(
    {
      streamName: maybe(fc.constantFrom('s', 'client_event')),
      topic: maybe(fc.constantFrom('t', 'u')),
      subTopic: maybe(name),
      fields: maybe(fc.array(fieldDef, { maxLength: 3 })),
      filter: maybe(
        fc.array(
          fc.record({
            name: name,
            type: fieldType,
            condition: maybe(
              fc.record({
                optype: maybe(fc.constantFrom('equal', 'in', 'gt', 'exists', 'equl')),
                values: junk,
              }),
            ),
          }),
          { maxLength: 2 },
        ),
      ),
      op: maybe(fc.constantFrom('add', 'remove')),
    },
    { requiredKeys: ['streamName', 'topic', 'fields'] },
  ),
);

const featureDef = maybe(
  fc.record(
    {
      featureType: maybe(fc.constantFrom('static', 'action')),
      containerType: maybe(fc.constantFrom('single', 'set', 'map')),
      maxCount: maybe(fc.integer({ min: -5, max: 500 })),
      ttl: maybe(fc.constantFrom('1h', '30d', '10', '5x')),
      mapKey: maybe(name),
      events: maybe(fc.array(eventDef, { minLength: 1, maxLength: 3 })),
      join: maybe(fc.record({ field: name, entity: name, as: maybe(name) })),
    },
    { requiredKeys: ['events'] },
  ),
);

const entityDef = maybe(
  fc.record({
    prefix: maybe(fc.constantFrom('u:', 'c:', 'c:flea', 'a#b', '')),
    idType: maybe(fc.constantFrom('int', 'string', 'uuid')),
    idField: maybe(fc.constantFrom('user_id', 'a.b', '')),
    plural: maybe(name),
  }),
);

const registryDoc = fc.record(
  {
    entities: maybe(fc.dictionary(name, entityDef, { maxKeys: 3 })),
    streams: maybe(
      fc.dictionary(
        fc.constantFrom('s', 'client_event', 'x y'),
        maybe(
          fc.record({ source: maybe(fc.constantFrom('http', 'redis', 'ftp')), timestampField: maybe(name) }),
        ),
        { maxKeys: 2 },
      ),
    ),
    features: maybe(
      fc.dictionary(name, maybe(fc.dictionary(name, featureDef, { maxKeys: 4 })), { maxKeys: 3 }),
    ),
    onDemand: junk,
    [HOSTILE_NAMES[0] as string]: junk,
  },
  { requiredKeys: ['features'] },
);

/** Mostly plain names, sometimes a hostile one: enough registries pass to test what passes. */
const mostlyPlainName = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z][a-z_]{0,6}[a-z]$/) },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_NAMES) },
);

/** Well-formed registries whose names (entities, features, fields, plurals) may be hostile. */
const wellFormedDoc = fc
  .record({
    entities: fc.uniqueArray(mostlyPlainName, { minLength: 1, maxLength: 3 }),
    plurals: fc.array(fc.option(mostlyPlainName, { nil: undefined }), { minLength: 3, maxLength: 3 }),
    features: fc.array(
      fc.record({
        name: mostlyPlainName,
        action: fc.boolean(),
        fields: fc.uniqueArray(mostlyPlainName, { minLength: 1, maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 5 },
    ),
  })
  .map(({ entities, plurals, features }) => ({
    entities: Object.fromEntries(
      entities.map((entity, i) => [
        entity,
        { prefix: `e${i}:`, ...(plurals[i] === undefined ? {} : { plural: plurals[i] }) },
      ]),
    ),
    features: Object.fromEntries(
      entities.map((entity, i) => [
        entity,
        Object.fromEntries(
          features
            .filter((_, k) => k % entities.length === i)
            .map((feature) => [
              feature.name,
              {
                featureType: feature.action ? 'action' : 'static',
                events: [
                  {
                    streamName: 's',
                    topic: 't',
                    fields: feature.fields.map((f) => ({ name: f, type: 'int' })),
                  },
                ],
              },
            ]),
        ),
      ]),
    ),
  }));

/** YAML texts that attack the parser itself: alias bombs, deep nesting, big and binary files. */
const hostileText = fc.oneof(
  fc
    .record({ levels: fc.integer({ min: 2, max: 14 }), fan: fc.integer({ min: 2, max: 12 }) })
    .map(({ levels, fan }) => {
      const lines = [`a0: &a0 [${Array(fan).fill('x').join(', ')}]`];
      for (let i = 1; i <= levels; i++)
        lines.push(
          `a${i}: &a${i} [${Array(fan)
            .fill(`*a${i - 1}`)
            .join(', ')}]`,
        );
      return `${lines.join('\n')}\nfeatures: {user: {os: {description: *a${levels}, events: [{streamName: s, topic: t, fields: [{name: os, type: string}]}]}}}\n`;
    }),
  fc.integer({ min: 50, max: 3_000 }).map((depth) => `features: ${'['.repeat(depth)}${']'.repeat(depth)}\n`),
  fc
    .integer({ min: 50, max: 500 })
    .map(
      (depth) =>
        `features:\n${Array.from({ length: depth }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`,
    ),
  fc.integer({ min: 1, max: 3 }).map((mb) => `# ${'x'.repeat(mb * 1024 * 1024)}\n`),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ maxLength: 300 }),
);

/** What every answer of the loader must be: compiled, or issues with a code and a place. True when compiled. */
function checkAnswer(result: ReturnType<typeof compileRegistry>): boolean {
  if ('registry' in result) {
    // Accepted by the loader ⇒ servable: the acceptance is one.
    expect(() => buildServingSchema(result.registry)).not.toThrow();
    return true;
  }
  expect(result.issues.length).toBeGreaterThan(0);
  for (const issue of result.issues as SpecIssue[]) {
    expect(Object.hasOwn(ERROR_CATALOG, issue.code), issue.code).toBe(true);
    expect(issue.line).toBeGreaterThanOrEqual(1);
    expect(issue.column).toBeGreaterThanOrEqual(1);
    expect(issue.file.length).toBeGreaterThan(0);
  }
  return false;
}

/** Compiles `text` as one registry file, bounded in time. */
function compileText(text: string): ReturnType<typeof compileRegistry> {
  const started = performance.now();
  const result = compileRegistry('/registry', [{ path: 'spec.yaml', content: text }], { env: {} });
  const ms = performance.now() - started;
  // Bounded: a 3 MB file is refused unread; the slowest accepted case parses in well under this.
  expect(ms, `compile took ${Math.round(ms)} ms`).toBeLessThan(3_000);
  return result;
}

describe('fuzz: the registry loader', () => {
  it('registries of hostile names and wrong-typed keys: compiled and servable, or issues with codes', () => {
    let runs = 0;
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(registryDoc, wellFormedDoc), (doc) => {
        runs++;
        if (checkAnswer(compileText(stringify(doc, { aliasDuplicateObjects: false })))) accepted++;
      }),
      { numRuns: FUZZ_RUNS.registryDocs },
    );
    // Some inputs must pass, or the servability half of the property would never be tried.
    expect(accepted).toBeGreaterThan(0);
    recordInputs(`registry: hostile names and wrong-typed keys (${accepted} accepted)`, runs);
  });

  it('texts that attack the YAML parser: bombs, deep nesting, big and binary files', () => {
    let runs = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    fc.assert(
      fc.property(hostileText, (text) => {
        runs++;
        checkAnswer(compileText(text));
      }),
      { numRuns: FUZZ_RUNS.registryTexts },
    );
    // Bounded memory: no case kept (or needed) hundreds of MB.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(300 * 1024 * 1024);
    recordInputs('registry: YAML bombs, nesting, big and binary files', runs);
  });
});
