import { LarderError } from '../../../errors.ts';
import { IssueCollector } from '../../../registry/issue-collector.ts';
import { mergeDocuments } from '../../../registry/merge-documents.ts';
import { SpecReader } from '../../../registry/node-reader.ts';
import { readRegistryFiles } from '../../../registry/source-files.ts';
import { SpecValidationError } from '../../../registry/spec-error.ts';
import type { Registry } from '../../../registry/types.ts';
import type { IngestionDef } from '../ingestion-def.ts';
import { compileIngestions, readIngestions } from '../../../registry/compile-ingestion.ts';

/** A registry that may carry compiled ingestions (the loader adds them once it compiles the block). */
type RegistryWithIngestions = Registry & { readonly ingestions?: ReadonlyMap<string, IngestionDef> };

const cache = new WeakMap<Registry, Promise<ReadonlyMap<string, IngestionDef>>>();

/**
 * The compiled ingestions of a registry. When the loader compiled them (`registry.ingestions`),
 * those; otherwise they are compiled here from the registry's own files, with the same rules and
 * the same `file:line:col` positions, and cached per registry object. Throws
 * {@link SpecValidationError} listing every problem of the `ingestions` block.
 */
export function ingestionsOf(registry: Registry): Promise<ReadonlyMap<string, IngestionDef>> {
  const compiled = (registry as RegistryWithIngestions).ingestions;
  if (compiled !== undefined) return Promise.resolve(compiled);
  let pending = cache.get(registry);
  if (pending === undefined) {
    pending = compileFromFiles(registry);
    cache.set(registry, pending);
  }
  return pending;
}

/** One ingestion by name; `LARDER_ERR_BATCH_UNKNOWN_INGESTION` naming the declared ones otherwise. */
export async function ingestionNamed(registry: Registry, name: string): Promise<IngestionDef> {
  const all = await ingestionsOf(registry);
  const def = all.get(name);
  if (def !== undefined) return def;
  const known = [...all.keys()];
  throw new LarderError(
    'LARDER_ERR_BATCH_UNKNOWN_INGESTION',
    `no ingestion "${name}" in the registry at ${registry.dir}; declared: ${known.length === 0 ? 'none' : known.join(', ')}`,
    { details: { ingestion: name, known } },
  );
}

async function compileFromFiles(registry: Registry): Promise<ReadonlyMap<string, IngestionDef>> {
  if (registry.extensions.ingestions === undefined) return new Map();
  const files = await readRegistryFiles(registry.dir);
  // The loader already validated everything else; only this block's issues matter here.
  const merged = mergeDocuments(files, new IssueCollector());
  const issues = new IssueCollector();
  const reader = new SpecReader(issues);
  const declarations = readIngestions(merged.extensions.ingestions, reader);
  const defs = compileIngestions(declarations, {
    reader,
    registryDir: registry.dir,
    entities: registry.entities,
    features: registry.featuresByEntity,
  });
  if (issues.count > 0) throw new SpecValidationError(issues.sorted());
  return defs;
}
