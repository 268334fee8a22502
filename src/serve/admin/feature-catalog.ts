import { formatFieldType } from '../../registry/field-type.ts';
import type { FeatureDef, Registry } from '../../registry/types.ts';
import type { FeatureActivity } from './admin-sources.ts';
import type { Facet, FeatureCatalog, FeatureSummary } from './admin-types.ts';

/** What `GET /v1/admin/features` filters by; every filter is exact, `q` matches words anywhere. */
export interface CatalogQuery {
  /** Words that must all occur (in names, fields, streams, owner, tags, description). `owner:x`, `tag:x`, `stream:x`, `entity:x`, `type:x` narrow one dimension. */
  readonly q?: string;
  readonly entity?: string;
  readonly stream?: string;
  /** `static`, `action`, a container type (`set`, `map`) or a field type (`int`, `list<string>`). */
  readonly type?: string;
  readonly owner?: string;
  readonly tag?: string;
  readonly offset: number;
  readonly limit: number;
}

type Dimension = 'entity' | 'stream' | 'type' | 'owner' | 'tag';
const DIMENSIONS: readonly Dimension[] = ['entity', 'stream', 'type', 'owner', 'tag'];

/** One feature, prepared for search: its summary, its words, and its value in each dimension. */
interface Entry {
  readonly summary: Omit<FeatureSummary, 'lastEventAt'>;
  readonly text: string;
  readonly values: Readonly<Record<Dimension, readonly string[]>>;
}

// Built once per registry version: a reload makes a new Registry object, and the old index goes with it.
const indexes = new WeakMap<Registry, readonly Entry[]>();

function indexOf(registry: Registry): readonly Entry[] {
  let index = indexes.get(registry);
  if (index === undefined) {
    const ingestionsOf = new Map<string, string[]>();
    for (const ingestion of registry.ingestions.values()) {
      const key = `${ingestion.entity}.${ingestion.feature}`;
      ingestionsOf.set(key, [...(ingestionsOf.get(key) ?? []), ingestion.name]);
    }
    index = registry.features.map((def) => toEntry(def, ingestionsOf.get(`${def.entity}.${def.name}`) ?? []));
    indexes.set(registry, index);
  }
  return index;
}

/** The catalog summary of one feature (without its activity). */
export function summarise(
  def: FeatureDef,
  ingestions: readonly string[],
): Omit<FeatureSummary, 'lastEventAt'> {
  return {
    entity: def.entity,
    name: def.name,
    featureType: def.featureType,
    containerType: def.containerType,
    fields: def.fields.map((f) => ({ name: f.name, type: formatFieldType(f.type) })),
    sources: [...new Set(def.events.map((e) => `${e.streamName}/${e.topic}`))],
    ingestions,
    owner: def.owner ?? null,
    tags: def.tags,
    description: def.description ?? null,
  };
}

function toEntry(def: FeatureDef, ingestions: readonly string[]): Entry {
  const summary = summarise(def, ingestions);
  const types = new Set<string>([def.featureType, ...summary.fields.map((f) => f.type)]);
  if (def.featureType === 'static' && def.containerType !== 'single') types.add(def.containerType);
  const values: Record<Dimension, readonly string[]> = {
    entity: [def.entity],
    stream: [...new Set(def.events.map((e) => e.streamName))],
    type: [...types],
    owner: def.owner === undefined ? [] : [def.owner],
    tag: def.tags,
  };
  const text = [
    `${def.entity}.${def.name}`,
    ...summary.fields.map((f) => `${f.name} ${f.type}`),
    ...summary.sources,
    ...ingestions,
    def.featureType,
    def.owner ?? '',
    ...def.tags,
    def.description ?? '',
  ]
    .join('\n')
    .toLowerCase();
  return { summary, text, values };
}

/** Parses `q` into free words and `dimension:value` terms. */
function parseQuery(q: string): { words: string[]; terms: [Dimension, string][] } {
  const words: string[] = [];
  const terms: [Dimension, string][] = [];
  for (const raw of q.trim().split(/\s+/)) {
    if (raw === '') continue;
    const colon = raw.indexOf(':');
    const dim = (colon > 0 ? raw.slice(0, colon) : '') as Dimension;
    if (DIMENSIONS.includes(dim) && colon < raw.length - 1) terms.push([dim, raw.slice(colon + 1)]);
    else words.push(raw.toLowerCase());
  }
  return { words, terms };
}

/**
 * Searches the registry's features: `q` first (every word a substring of the feature's text,
 * every `dimension:value` an exact value), then the exact filters, then the page. Facets count the
 * features `q` matched, so a filter's options show how many each would leave. Sorted by entity,
 * then name. Linear in the number of features: 2,000 groups take well under a millisecond.
 */
export function searchCatalog(
  registry: Registry,
  query: CatalogQuery,
  activity: FeatureActivity | undefined,
): FeatureCatalog {
  const { words, terms } = parseQuery(query.q ?? '');
  const matched = indexOf(registry).filter(
    (e) => words.every((w) => e.text.includes(w)) && terms.every(([d, v]) => hasValue(e, d, v)),
  );
  const facets = Object.fromEntries(DIMENSIONS.map((d) => [d, countValues(matched, d)])) as Record<
    Dimension,
    Facet[]
  >;
  const filtered = matched
    .filter((e) => DIMENSIONS.every((d) => query[d] === undefined || hasValue(e, d, query[d])))
    .sort((a, b) => compare(a.summary.entity, b.summary.entity) || compare(a.summary.name, b.summary.name));
  const page = filtered.slice(query.offset, query.offset + query.limit);
  const end = query.offset + page.length;
  return {
    total: filtered.length,
    items: page.map((e) => ({
      ...e.summary,
      lastEventAt: activity?.lastEventAt(e.summary.entity, e.summary.name) ?? null,
    })),
    ...(end < filtered.length ? { next: String(end) } : {}),
    facets,
  };
}

function hasValue(entry: Entry, dimension: Dimension, value: string): boolean {
  const wanted = value.toLowerCase();
  return entry.values[dimension].some((v) => v.toLowerCase() === wanted);
}

function countValues(entries: readonly Entry[], dimension: Dimension): Facet[] {
  const counts = new Map<string, number>();
  for (const entry of entries)
    for (const v of entry.values[dimension]) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || compare(a.value, b.value));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
