import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { currentEnvTable, renderEnvTable } from '../../scripts/config-doc.ts';
import { keysAt } from '../../src/config/config-issues.ts';
import { configFileSchema } from '../../src/config/config-schema.ts';
import { ENV_VARIABLES } from '../../src/config/env-variables.ts';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** `LARDER_*` names in src/ that are not environment variables Larder reads. */
const NOT_VARIABLES: Record<string, string> = {
  LARDER_DLQ: 'the default name of the JetStream stream holding dead letters',
  LARDER_WORKER: 'set by `larder serve --workers` on its own worker processes',
  LARDER_SERVE_RESPAWNED: 'set by `larder serve` on the process it re-runs with a larger young generation',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(path.join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [path.join(dir, entry.name)]
        : [],
  );
}

describe('the environment variable table', () => {
  it('docs/configuration.md shows exactly the table in src/config/env-variables.ts', () => {
    expect(currentEnvTable()).toBe(renderEnvTable());
  });

  it('lists every LARDER_* variable src/ mentions, and each one it lists is read', () => {
    const mentioned = new Set<string>();
    for (const file of sourceFiles(SRC)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bLARDER_(?!ERR_)[A-Z0-9_]+\b/g)) {
        mentioned.add(match[0]);
      }
    }
    const listed = new Set(ENV_VARIABLES.map((v) => v.name));
    const unlisted = [...mentioned].filter((name) => !listed.has(name) && !(name in NOT_VARIABLES));
    expect(unlisted).toEqual([]);
    // A listed variable either sets config keys, or is read by name somewhere outside the table.
    const readOutsideTable = new Set<string>();
    for (const file of sourceFiles(SRC).filter((f) => !f.endsWith('env-variables.ts'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bLARDER_(?!ERR_)[A-Z0-9_]+\b/g)) {
        readOutsideTable.add(match[0]);
      }
    }
    for (const variable of ENV_VARIABLES) {
      if (variable.keys.length === 0) expect(readOutsideTable, variable.name).toContain(variable.name);
    }
  });

  it('every key a variable sets is a key of the config schema', () => {
    for (const variable of ENV_VARIABLES) {
      for (const key of variable.keys) {
        const segments = key.split('.');
        expect(keysAt(configFileSchema, segments.slice(0, -1)), `${variable.name} -> ${key}`).toContain(
          segments.at(-1),
        );
      }
    }
  });
});
