import { LarderError } from '../../errors.ts';
import { compileOnDemand } from '../../registry/compile-on-demand.ts';
import type { OnDemandDef, Registry } from '../../registry/types.ts';

export type { OnDemandDef } from '../../registry/types.ts';

/**
 * The on-demand features a registry serves: compiled by the loader (`registry.onDemand`), or, for
 * a registry built by hand, compiled here from the raw block. Throws `LARDER_ERR_SPEC_INVALID`
 * listing every problem of a raw block that does not compile.
 */
export function onDemandDefsOf(
  registry: Pick<Registry, 'entities' | 'featuresByEntity' | 'extensions' | 'onDemand'>,
): readonly OnDemandDef[] {
  if (registry.onDemand !== undefined) return registry.onDemand;
  const { defs, issues } = compileOnDemand(registry);
  if (issues.length > 0) {
    throw new LarderError(
      'LARDER_ERR_SPEC_INVALID',
      `onDemand has ${issues.length} problem(s):\n${issues.map((i) => `  ${i.path}: ${i.message} [${i.code}]`).join('\n')}`,
      { details: { issues } },
    );
  }
  return defs;
}
