import path from 'node:path';
import { cruise, type IConfiguration, type IViolation } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

// The layering rules of .dependency-cruiser.js must be able to fail: run them on a small tree with a
// deliberate value cycle, a type-only cycle, a registry module that imports the store, and a serving
// module that uses the ingestor contract (allowed) and the ingest dispatcher (not allowed).
const root = path.resolve(import.meta.dirname, '../..');
const fixture = path.join(root, 'test/fixtures/layering');

async function violationsIn(dir: string): Promise<IViolation[]> {
  const configFile = path.join(root, '.dependency-cruiser.js');
  const { default: config } = (await import(configFile)) as { default: IConfiguration };
  const result = await cruise(['src'], {
    validate: true,
    ruleSet: { forbidden: config.forbidden ?? [] },
    tsPreCompilationDeps: true,
    baseDir: dir,
  });
  if (typeof result.output === 'string') throw new Error('expected a cruise result, got text');
  return result.output.summary.violations;
}

describe('layering rules', () => {
  it('report cycles of values and of types, upward and peer imports, and nothing else', async () => {
    const found = (await violationsIn(fixture))
      .map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }))
      .sort((a, b) => `${a.rule} ${a.from}`.localeCompare(`${b.rule} ${b.from}`));
    expect(found).toEqual([
      {
        rule: 'layer-registry-imports-upward',
        from: 'src/registry/entity.ts',
        to: 'src/store/store-name.ts',
      },
      {
        rule: 'layer-serve-imports-peer-ingest',
        from: 'src/serve/push.ts',
        to: 'src/ingest/dispatcher.ts',
      },
      { rule: 'no-cycle', from: 'src/registry/entity.ts', to: 'src/registry/feature.ts' },
      { rule: 'no-cycle', from: 'src/serve/request.ts', to: 'src/serve/response.ts' },
    ]);
  });
});
