import { isLarderError } from '../errors.ts';
import { IssueCollector } from '../registry/issue-collector.ts';
import { loadRegistry, SpecValidationError, type LoadOptions } from '../registry/load.ts';
import type { RegistryHolder } from '../registry/registry-holder.ts';
import type { Registry, SpecIssue } from '../registry/types.ts';
import { buildServingSchema } from '../serve/graphql-schema.ts';

/**
 * The one acceptance of a registry, shared by `larder validate`, every process's start and every
 * reload: the loader's validation (every problem with its file:line:col, GraphQL names included),
 * then the serving schema build, the last check, which the registry layer cannot run itself.
 * Whatever passes here serves; whatever fails changes nothing anywhere. Every process runs the
 * build, serving or not, so that an ingest-only process never takes a registry the servers refuse.
 */

/** Why `registry` cannot be served: the schema build's refusal as issues; empty when it can. */
export function servingIssues(registry: Registry): SpecIssue[] {
  try {
    buildServingSchema(registry);
    return [];
  } catch (err) {
    const issues = new IssueCollector();
    const code = isLarderError(err) ? err.code : 'LARDER_ERR_SPEC_INVALID';
    const message = err instanceof Error ? err.message : String(err);
    issues.add(code, `the registry cannot be served: ${message}`, { file: '.', line: 1, column: 1 });
    return issues.sorted();
  }
}

/** Loads the registry in `dir` and accepts it; throws `SpecValidationError` with every problem. */
export async function loadAcceptedRegistry(dir: string, options: LoadOptions = {}): Promise<Registry> {
  const registry = await loadRegistry(dir, options);
  const issues = servingIssues(registry);
  if (issues.length > 0) throw new SpecValidationError(issues);
  return registry;
}

/** Makes every later replacement of `holder` pass the same acceptance. Returns the remover. */
export function acceptOnReplace(holder: RegistryHolder): () => void {
  return holder.addGate((next) => {
    const issues = servingIssues(next);
    if (issues.length > 0) throw new SpecValidationError(issues);
  });
}
