import type { IssueCollector } from './issue-collector.ts';
import type { SpecNode } from './spec-node.ts';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * The plain value of a free-form node (`connection`, `options`), with `${VAR}` and
 * `${VAR:-default}` in string values replaced from `env`. A variable that is unset and has no
 * default is reported at its string; `:-` also applies when the variable is set but empty, as in sh.
 */
export function substituteEnv(
  node: SpecNode,
  env: Readonly<Record<string, string | undefined>>,
  issues: IssueCollector,
  what: string,
): unknown {
  switch (node.kind) {
    case 'scalar': {
      if (typeof node.value !== 'string') return node.value;
      return node.value.replace(REFERENCE, (whole, name: string, fallback: string | undefined) => {
        const value = env[name];
        if (value !== undefined && (value !== '' || fallback === undefined)) return value;
        if (fallback !== undefined) return fallback;
        issues.add(
          'LARDER_ERR_SPEC_ENV',
          `${what} uses the environment variable ${name}, which is not set`,
          node.pos,
          `Set ${name} in the environment, or give a default: \${${name}:-value}.`,
        );
        return whole;
      });
    }
    case 'seq':
      return node.items.map((item, i) => substituteEnv(item, env, issues, `${what}[${i}]`));
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const entry of node.entries) {
        Object.defineProperty(out, entry.key, {
          value: substituteEnv(entry.value, env, issues, `${what}.${entry.key}`),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
  }
}
