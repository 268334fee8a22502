/**
 * Batch IngestionSpecs as the batch code sees them. The types live with the compiled registry
 * (`src/registry/types.ts`), which the loader fills from the `ingestions:` block.
 */
export type { IngestionDef, SourceFormat, SourceSpec } from '../../registry/types.ts';
export { INGESTION_DEFAULTS } from '../../registry/compile-ingestion.ts';
