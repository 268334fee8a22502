import { ERROR_CATALOG } from '../errors.ts';
import type { ConfigIssue, ConfigWarning } from './config-issues.ts';
import type { ConfigSource } from './config-source.ts';

/**
 * Older spellings of config keys that still work. Each is rewritten to today's key before
 * validation, with a warning at its place:
 *
 * - `batch.redis: redis://…` (a string) is `batch.redis: {url: redis://…}`, the shape of every
 *   Redis connection;
 * - `batch.workers` (threads of the embedded pool) is `batch.threads`: "workers" means processes.
 */
export function rewriteLegacyKeys(
  data: Record<string, unknown>,
  source: ConfigSource,
): { readonly warnings: readonly ConfigWarning[]; readonly issues: readonly ConfigIssue[] } {
  const warnings: ConfigWarning[] = [];
  const issues: ConfigIssue[] = [];
  const batch = data.batch;
  if (batch === null || typeof batch !== 'object' || Array.isArray(batch)) return { warnings, issues };
  const section = batch as Record<string, unknown>;
  if (typeof section.redis === 'string') {
    warnings.push({
      where: source.where(['batch', 'redis']),
      message: `batch.redis as a URL string is deprecated; write batch.redis: {url: "${section.redis}"}`,
    });
    section.redis = { url: section.redis };
  }
  if ('workers' in section) {
    if ('threads' in section) {
      issues.push({
        code: 'LARDER_ERR_CONFIG_VALUE',
        where: source.where(['batch', 'workers'], true),
        message: 'batch.workers is the old name of batch.threads; keep only batch.threads',
        hint: ERROR_CATALOG.LARDER_ERR_CONFIG_VALUE.hint,
      });
    } else {
      warnings.push({
        where: source.where(['batch', 'workers'], true),
        message: 'batch.workers is deprecated (it counts threads); write batch.threads',
      });
      section.threads = section.workers;
    }
    delete section.workers;
  }
  return { warnings, issues };
}
