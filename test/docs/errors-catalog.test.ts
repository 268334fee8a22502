import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, LarderError } from '../../src/errors.ts';
import { currentCatalogTable, renderCatalogTable } from '../../scripts/errors-doc.ts';

describe('error catalog', () => {
  it('docs/errors.md lists exactly the codes in src/errors.ts', () => {
    expect(currentCatalogTable()).toBe(renderCatalogTable());
  });

  it('every code is LARDER_ERR_* with an HTTP status and a hint', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
      expect(code).toMatch(/^LARDER_ERR_[A-Z0-9_]+$/);
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
      expect(entry.hint.length).toBeGreaterThan(10);
    }
  });

  it('LarderError carries code, status and hint from the catalog', () => {
    const err = new LarderError('LARDER_ERR_COUNT_TOO_LARGE', 'count 500 exceeds maxCount 100');
    expect(err.status).toBe(400);
    expect(err.hint).toBe(ERROR_CATALOG.LARDER_ERR_COUNT_TOO_LARGE.hint);
    expect(err.toJSON()).toMatchObject({ code: 'LARDER_ERR_COUNT_TOO_LARGE' });
  });

  it('every LARDER_ERR_* code mentioned anywhere under src/ is in the catalog', () => {
    const srcDir = fileURLToPath(new URL('../../src', import.meta.url));
    const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = readFileSync(path.join(srcDir, file), 'utf8');
      for (const match of text.matchAll(/LARDER_ERR_[A-Z0-9_]*[A-Z0-9]/g)) {
        expect(Object.keys(ERROR_CATALOG), `${file} uses ${match[0]}`).toContain(match[0]);
      }
    }
  });
});
