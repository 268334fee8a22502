import { useEffect, useState } from 'preact/hooks';
import type { Facet, FeatureCatalog } from '../../../serve/admin/admin-types.ts';
import { api, queryString } from '../api.ts';
import { ago, num } from '../format.ts';
import { Pager } from '../parts/pager.tsx';
import { ErrorNote, Loading } from '../parts/status.tsx';
import { useData } from '../parts/use-data.ts';
import { setQuery } from '../router.ts';

const FILTERS = [
  ['entity', 'Entity'],
  ['stream', 'Stream'],
  ['type', 'Type'],
  ['owner', 'Owner'],
  ['tag', 'Tag'],
] as const;

const LIMIT = 50;

/** The feature catalog: search and filters kept in the URL, pages cut by the server. */
export function FeaturesPage({ query }: { query: URLSearchParams }) {
  const params = Object.fromEntries(
    ['q', 'entity', 'stream', 'type', 'owner', 'tag', 'offset'].map((k) => [k, query.get(k) ?? '']),
  );
  const [text, setText] = useState(params['q'] ?? '');
  // Typing updates the URL (and the search) once it pauses.
  useEffect(() => {
    const timer = window.setTimeout(() => {
      if (text !== (params['q'] ?? '')) setQuery({ q: text, offset: undefined });
    }, 250);
    return () => window.clearTimeout(timer);
  }, [text]);
  const url = `/v1/admin/features${queryString({ ...params, limit: LIMIT })}`;
  const { data, error, loading } = useData(url, () => api<FeatureCatalog>(url));
  const offset = Number(params['offset'] || 0);
  const pageHref = (o: number): string =>
    `/console/features${queryString({ ...params, offset: o === 0 ? undefined : o })}`;

  return (
    <section aria-labelledby="features-title">
      <h1 id="features-title">Features</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => (e.preventDefault(), setQuery({ q: text, offset: undefined }))}
      >
        <div class="field grow">
          <label for="feature-search">Search features</label>
          <input
            id="feature-search"
            type="search"
            value={text}
            placeholder="name, field, stream, owner:team, tag:x"
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </div>
        {FILTERS.map(([key, label]) => (
          <FacetSelect
            key={key}
            id={`filter-${key}`}
            label={label}
            value={params[key] ?? ''}
            facets={data?.facets[key] ?? []}
            onChange={(v) => setQuery({ [key]: v, offset: undefined })}
          />
        ))}
      </form>
      {data === undefined ? null : <EntityCounts facets={data.facets.entity} />}
      <ErrorNote error={error} />
      <Loading when={loading && data === undefined} />
      {data === undefined ? null : (
        <>
          <p role="status" class="muted">
            {num(data.total)} feature{data.total === 1 ? '' : 's'} match
          </p>
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Features matching the search</caption>
              <thead>
                <tr>
                  <th scope="col">Feature</th>
                  <th scope="col">Type</th>
                  <th scope="col">Fields</th>
                  <th scope="col">Sources</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Last event</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((f) => (
                  <tr key={`${f.entity}.${f.name}`}>
                    <th scope="row">
                      <a
                        href={`/console/features/${encodeURIComponent(f.entity)}/${encodeURIComponent(f.name)}`}
                      >
                        {f.entity}.{f.name}
                      </a>
                      {f.description === null ? null : <div class="muted small">{f.description}</div>}
                    </th>
                    <td>
                      {f.featureType}
                      {f.containerType === 'single' ? '' : ` (${f.containerType})`}
                    </td>
                    <td>{f.fields.map((x) => `${x.name}: ${x.type}`).join(', ')}</td>
                    <td>{[...f.sources, ...f.ingestions.map((i) => `batch ${i}`)].join(', ')}</td>
                    <td>{f.owner ?? '–'}</td>
                    <td>{f.tags.join(', ') || '–'}</td>
                    <td>{ago(f.lastEventAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            label="Feature pages"
            previous={offset > 0 ? pageHref(Math.max(0, offset - LIMIT)) : undefined}
            next={data.next === undefined ? undefined : pageHref(Number(data.next))}
            summary={
              data.total === 0
                ? 'no features'
                : `${num(offset + 1)}–${num(offset + data.items.length)} of ${num(data.total)}`
            }
          />
        </>
      )}
    </section>
  );
}

function FacetSelect({
  id,
  label,
  value,
  facets,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  facets: readonly Facet[];
  onChange: (value: string) => void;
}) {
  const options =
    value !== '' && !facets.some((f) => f.value === value) ? [{ value, count: 0 }, ...facets] : facets;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">Any</option>
        {options.map((f) => (
          <option key={f.value} value={f.value}>
            {f.value} ({num(f.count)})
          </option>
        ))}
      </select>
    </div>
  );
}

function EntityCounts({ facets }: { facets: readonly Facet[] }) {
  return (
    <section aria-labelledby="entity-counts" class="counts">
      <h2 id="entity-counts" class="inline-heading">
        Features per entity
      </h2>
      <ul>
        {facets.map((f) => (
          <li key={f.value}>
            <a href={`/console/features${queryString({ entity: f.value })}`}>
              {f.value} <span class="count">{num(f.count)}</span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
