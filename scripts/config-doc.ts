// Renders the environment variable table of docs/configuration.md from src/config/env-variables.ts.
// `npm run docs:config` rewrites it; test/config/env-table.test.ts fails when the two drift apart.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ENV_VARIABLES } from '../src/config/env-variables.ts';

export const CONFIG_DOC = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
const BEGIN = '<!-- env-table:begin -->';
const END = '<!-- env-table:end -->';

export function renderEnvTable(): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  const rows = ENV_VARIABLES.map((v) => {
    const keys = v.keys.length === 0 ? '(none)' : v.keys.map((k) => `\`${k}\``).join(', ');
    const note =
      v.deprecated === undefined ? v.description : `**Deprecated:** ${v.deprecated}. ${v.description}`;
    return `| \`${v.name}\` | ${keys} | ${v.kind} | ${cell(note)} |`;
  });
  return ['| variable | config key | value | what it does |', '|---|---|---|---|', ...rows].join('\n');
}

/** The table as it is in the file now. */
export function currentEnvTable(text = readFileSync(CONFIG_DOC, 'utf8')): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < 0) return '';
  return text.slice(start + BEGIN.length, end).trim();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = readFileSync(CONFIG_DOC, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < 0) throw new Error(`${CONFIG_DOC} has no ${BEGIN} ... ${END} section`);
  writeFileSync(
    CONFIG_DOC,
    `${text.slice(0, start + BEGIN.length)}\n${renderEnvTable()}\n${text.slice(end)}`,
  );
  process.stdout.write(`wrote ${ENV_VARIABLES.length} variables to docs/configuration.md\n`);
}
