// Renders docs/errors.md from the catalog in src/errors.ts. `npm run docs:errors` rewrites the file;
// test/docs/errors-catalog.test.ts fails when the two drift apart.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_CATALOG } from '../src/errors.ts';

export const ERRORS_DOC = fileURLToPath(new URL('../docs/errors.md', import.meta.url));
const BEGIN = '<!-- catalog:begin -->';
const END = '<!-- catalog:end -->';

export function renderCatalogTable(): string {
  const rows = Object.entries(ERROR_CATALOG).map(
    ([code, { status, hint }]) => `| \`${code}\` | ${status} | ${hint.replace(/\|/g, '\\|')} |`,
  );
  return ['| code | HTTP status | how to fix |', '|---|---|---|', ...rows].join('\n');
}

/** The catalog section as it is in the file now. */
export function currentCatalogTable(text = readFileSync(ERRORS_DOC, 'utf8')): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < 0) return '';
  return text.slice(start + BEGIN.length, end).trim();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = readFileSync(ERRORS_DOC, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const next = `${text.slice(0, start + BEGIN.length)}\n${renderCatalogTable()}\n${text.slice(end)}`;
  writeFileSync(ERRORS_DOC, next);
  process.stdout.write(`wrote ${Object.keys(ERROR_CATALOG).length} codes to docs/errors.md\n`);
}
