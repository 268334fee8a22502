import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEMO_QUERY } from '../../src/cli/commands/demo.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { buildServingSchema } from '../../src/serve/graphql-schema.ts';
import { parse, validate } from '../../src/serve/graphql-runtime.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/marketplace', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The query `larder demo` prints, and the README shows, fits the example registry's schema. */
describe('the demo query', () => {
  it('is valid against the schema of examples/marketplace, rankBy and vectors included', async () => {
    const { schema } = buildServingSchema(await loadRegistry(EXAMPLE));
    expect(validate(schema, parse(DEMO_QUERY)).map((e) => e.message)).toEqual([]);
    expect(DEMO_QUERY).toContain('rankBy: {similarityTo: {entity: user, id: 1, feature: interest_vector}');
    expect(DEMO_QUERY).toContain('title_embedding');
  });

  it('is the query the README shows', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toContain(`\`\`\`graphql\n${DEMO_QUERY}\n\`\`\``);
  });
});
