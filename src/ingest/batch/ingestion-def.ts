/**
 * Batch IngestionSpecs as the batch code sees them. The types live with the compiled registry
 * (`src/spec/types.ts`), which the loader fills from the `ingestions:` block.
 */
export type { IngestionDef, SourceFormat, SourceSpec } from '../../spec/types.ts';
export { INGESTION_DEFAULTS } from '../../spec/compile-ingestion.ts';
