import { resolve } from 'node:path';
import { checkEntityCollisions, compileEntity, defaultEntity } from './compile-entity.ts';
import { compileEnrichers } from './compile-enricher.ts';
import { mergeExtension } from './compile-extensions.ts';
import { compileIngestions, ingestedFields, readIngestions } from './compile-ingestion.ts';
import { compileFeature } from './compile-feature.ts';
import { compileOnDemand } from './compile-on-demand.ts';
import { compileStream, defaultStream } from './compile-stream.ts';
import { checkGraphqlTypeNames } from './graphql-names.ts';
import { deepFreeze } from './deep-freeze.ts';
import { IssueCollector } from './issue-collector.ts';
import { EXTENSION_KEYS, mergeDocuments } from './merge-documents.ts';
import { SpecReader } from './node-reader.ts';
import { filesWithinBounds } from './source-bounds.ts';
import { registryVersion, type SourceFile } from './source-files.ts';
import { specLimits, type SpecLimits } from './spec-limits.ts';
import type {
  EntityDef,
  FeatureDef,
  IngestionDef,
  Registry,
  SourcePos,
  SpecIssue,
  StreamDef,
} from './types.ts';

export interface CompileOptions {
  /** Environment for `${VAR}` substitution. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Features allowed to have no events (fed by batch ingestions). Default: none. */
  readonly mayHaveNoEvents?: (entity: string, feature: string) => boolean;
  /** Bounds on file sizes, alias expansion and nesting; see `SpecLimits`. Default: the defaults. */
  readonly limits?: Partial<SpecLimits>;
}

/** A valid registry (its warnings with it), or every error found, with the warnings beside them. */
export type CompileResult =
  | { readonly registry: Registry }
  | { readonly issues: readonly SpecIssue[]; readonly warnings: readonly SpecIssue[] };

/** Validates and compiles the registry's files. Never throws for spec problems: it returns them. */
export function compileRegistry(
  dir: string,
  files: readonly SourceFile[],
  options: CompileOptions = {},
): CompileResult {
  const issues = new IssueCollector();
  const reader = new SpecReader(issues);
  const limits = specLimits(options.limits);
  const merged = mergeDocuments(filesWithinBounds(files, limits, issues), issues, limits);

  if (merged.features.length === 0 && issues.count === 0) {
    const where: SourcePos = { file: files[0]?.path ?? '.', line: 1, column: 1 };
    issues.add(
      'LARDER_ERR_SPEC_EMPTY',
      files.length === 0 ? `no *.yaml or *.yml files under ${dir}` : 'the registry declares no features',
      where,
    );
  }

  // Entities: declared ones, then those implied by `features.<entity>`, in first-seen order.
  const entities = new Map<string, EntityDef>();
  const entityPos = new Map<string, { name: SourcePos; plural: SourcePos; prefix: SourcePos }>();
  for (const decl of merged.entities) {
    entities.set(decl.name, compileEntity(decl, reader));
    const map = decl.value.kind === 'map' ? decl.value : undefined;
    const at = (key: string): SourcePos => map?.entries.find((e) => e.key === key)?.value.pos ?? decl.keyPos;
    entityPos.set(decl.name, { name: decl.keyPos, plural: at('plural'), prefix: at('prefix') });
  }
  for (const feature of merged.features) {
    if (entities.has(feature.entity)) continue;
    reader.name(feature.entity, 'entity name', feature.entityKeyPos);
    entities.set(feature.entity, defaultEntity(feature.entity, false));
    const at = feature.entityKeyPos;
    entityPos.set(feature.entity, { name: at, plural: at, prefix: at });
  }
  checkEntityCollisions([...entities.values()], entityPos, reader);

  const env = options.env ?? process.env;
  const streams = new Map<string, StreamDef>();
  for (const decl of merged.streams) streams.set(decl.name, compileStream(decl, reader, env));

  // Batch ingestions are read before features: a feature fed only by ingestions needs no events
  // and takes its fields from them.
  const ingestionDecls = readIngestions(merged.extensions.ingestions, reader);
  const fedByIngestion = new Set(ingestionDecls.flatMap((d) => (d.target === undefined ? [] : [d.target])));
  const mayHaveNoEvents = (entity: string, feature: string): boolean =>
    fedByIngestion.has(`${entity}.${feature}`) || (options.mayHaveNoEvents?.(entity, feature) ?? false);

  const features: FeatureDef[] = [];
  const entityNames = new Set(entities.keys());
  for (const decl of merged.features) {
    const feature = compileFeature(decl, {
      reader,
      entities: entityNames,
      mayHaveNoEvents,
      ingestedFields: ingestedFields(ingestionDecls),
    });
    if (feature === undefined) continue;
    features.push(feature);
    for (const event of feature.events) {
      if (!streams.has(event.streamName))
        streams.set(event.streamName, defaultStream(event.streamName, false));
    }
  }

  const extensions: Record<string, unknown> = {};
  for (const key of EXTENSION_KEYS) {
    const value = mergeExtension(key, merged.extensions[key], reader);
    if (value !== undefined) extensions[key] = value;
  }

  const featuresByEntity = new Map<string, Map<string, FeatureDef>>();
  for (const feature of features) {
    let group = featuresByEntity.get(feature.entity);
    if (group === undefined) {
      group = new Map();
      featuresByEntity.set(feature.entity, group);
    }
    group.set(feature.name, feature);
  }
  checkGraphqlTypeNames(
    [...entities.values()],
    features,
    new Map([...entityPos].map(([name, at]) => [name, at.name])),
    reader,
  );
  const onDemand = compileOnDemand(merged.extensions.onDemand, { entities, featuresByEntity }, reader);
  const ingestions: Map<string, IngestionDef> = compileIngestions(ingestionDecls, {
    reader,
    registryDir: resolve(dir),
    entities,
    features: featuresByEntity,
  });

  // After the features: enrichers add the streams they name but nobody declared.
  const enrichers = compileEnrichers(merged.extensions.enrichers, {
    reader,
    registryDir: resolve(dir),
    streams,
    env,
  });

  if (issues.count > 0) return { issues: issues.sorted(), warnings: issues.warnings() };
  const registry: Registry = {
    version: registryVersion(files),
    dir: resolve(dir),
    entities,
    streams,
    features,
    featuresByEntity,
    extensions,
    ingestions,
    onDemand,
    enrichers,
    warnings: issues.warnings(),
    ...(merged.allowBreaking.length === 0 ? {} : { allowBreaking: [...new Set(merged.allowBreaking)] }),
  };
  return { registry: deepFreeze(registry) };
}
