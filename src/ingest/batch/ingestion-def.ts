import { LarderError } from '../../errors.ts';
import type { IngestionDef, Registry } from '../../registry/types.ts';

/**
 * Batch IngestionSpecs as the batch code sees them. The types live with the compiled registry
 * (`src/registry/types.ts`), which the loader fills from the `ingestions:` block.
 */
export type { IngestionDef, SourceFormat, SourceSpec } from '../../registry/types.ts';
export { INGESTION_DEFAULTS } from '../../registry/compile-ingestion.ts';

/** One ingestion by name; `LARDER_ERR_BATCH_UNKNOWN_INGESTION` naming the declared ones otherwise. */
export function ingestionNamed(registry: Registry, name: string): IngestionDef {
  const def = registry.ingestions.get(name);
  if (def !== undefined) return def;
  const known = [...registry.ingestions.keys()];
  throw new LarderError(
    'LARDER_ERR_BATCH_UNKNOWN_INGESTION',
    `no ingestion "${name}" in the registry at ${registry.dir}; declared: ${known.length === 0 ? 'none' : known.join(', ')}`,
    { details: { ingestion: name, known } },
  );
}
