import { useState } from 'preact/hooks';
import type { FeatureDetail } from '../../../serve/admin/admin-types.ts';
import { api, ApiError } from '../api.ts';
import { ago, duration, num, time } from '../format.ts';
import { CopyBlock } from '../parts/copy-block.tsx';
import { ErrorNote, Loading } from '../parts/status.tsx';
import { COLORS, TimeChart } from '../parts/time-chart.tsx';
import { useData } from '../parts/use-data.ts';

/** One feature: freshness, sample values, its spec as written, types, sources and a ready query. */
export function FeaturePage({ entity, feature }: { entity: string; feature: string }) {
  const url = `/v1/admin/features/${encodeURIComponent(entity)}/${encodeURIComponent(feature)}`;
  const { data, error, loading } = useData(url, () => api<FeatureDetail>(url), 5_000);
  return (
    <article aria-labelledby="feature-title">
      <p class="crumbs">
        <a href="/console/features">Features</a> /{' '}
        <a href={`/console/features?entity=${encodeURIComponent(entity)}`}>{entity}</a>
      </p>
      <h1 id="feature-title">
        {entity}.{feature}
      </h1>
      <ErrorNote error={error} />
      <Loading when={loading && data === undefined} />
      {data === undefined ? null : <FeatureBody entity={entity} detail={data} />}
    </article>
  );
}

function FeatureBody({ entity, detail }: { entity: string; detail: FeatureDetail }) {
  const s = detail.summary;
  return (
    <>
      <p>{s.description ?? <span class="muted">No description.</span>}</p>
      <dl class="facts">
        <dt>Type</dt>
        <dd>
          {s.featureType}
          {s.containerType === 'single' ? '' : ` (${s.containerType})`}
        </dd>
        <dt>Owner</dt>
        <dd>{s.owner ?? '–'}</dd>
        <dt>Tags</dt>
        <dd>{s.tags.join(', ') || '–'}</dd>
        <dt>Declared in</dt>
        <dd>
          <code>
            {detail.at.file}:{detail.at.line}:{detail.at.column}
          </code>
        </dd>
      </dl>

      <section aria-labelledby="freshness">
        <h2 id="freshness">Freshness</h2>
        <p>
          Last event applied: <strong>{time(detail.freshness.lastEventAt)}</strong> (
          {ago(detail.freshness.lastEventAt)})
        </p>
        <TimeChart
          title="Events applied per second"
          series={detail.freshness.eventsPerSec}
          lines={[{ key: 'events', label: 'events/s', color: COLORS[0] ?? '#1f5fbf' }]}
          unit="events per second"
        />
      </section>

      <SampleValues entity={entity} detail={detail} />

      <section aria-labelledby="storage">
        <h2 id="storage">Storage and cache</h2>
        <dl class="facts">
          <dt>maxCount</dt>
          <dd>{num(detail.maxCount)}</dd>
          <dt>TTL</dt>
          <dd>{detail.ttlMs === null ? 'never expires' : duration(detail.ttlMs)}</dd>
          <dt>Cache policy</dt>
          <dd>
            {detail.cache === null
              ? 'none (read from the store)'
              : `${detail.cache.levels.join(' + ')}, ttl ${duration(detail.cache.ttlMs)}, soft ${duration(detail.cache.softTtlMs)}, negative ${duration(detail.cache.negativeTtlMs)}, ${detail.cache.write}`}
          </dd>
          <dt>Joins</dt>
          <dd>{detail.joins.map((j) => `${j.field} → ${j.entity} as ${j.as}`).join(', ') || '–'}</dd>
        </dl>
      </section>

      <section aria-labelledby="sources">
        <h2 id="sources">Sources</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Source</th>
                <th scope="col">Via</th>
                <th scope="col">Mapping</th>
                <th scope="col">Declared in</th>
              </tr>
            </thead>
            <tbody>
              {detail.sources.map((src, i) => (
                <tr key={i}>
                  <td>{src.kind}</td>
                  <td>{src.name}</td>
                  <td>{src.via}</td>
                  <td>{src.detail}</td>
                  <td>{src.at === null ? '–' : <code>{`${src.at.file}:${src.at.line}`}</code>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="spec">
        <h2 id="spec">Spec as written</h2>
        <p class="muted">
          <code>{detail.at.file}</code>, from line {detail.specFirstLine}
        </p>
        {detail.specText === null ? (
          <p class="muted">The file could not be read.</p>
        ) : (
          <pre class="code numbered" tabIndex={0} aria-label={`YAML of ${s.entity}.${s.name}`}>
            {detail.specText.split('\n').map((line, i) => (
              <span key={i} class="line" data-line={detail.specFirstLine + i}>
                {line}
                {'\n'}
              </span>
            ))}
          </pre>
        )}
      </section>

      <section aria-labelledby="types">
        <h2 id="types">Compiled types</h2>
        <ul class="inline-list">
          {s.fields.map((f) => (
            <li key={f.name}>
              <code>
                {f.name}: {f.type}
              </code>
            </li>
          ))}
        </ul>
        <CopyBlock label="GraphQL types" text={detail.graphqlTypes} />
      </section>

      <section aria-labelledby="query">
        <h2 id="query">Query it</h2>
        <CopyBlock label="GraphQL query" text={detail.query.graphql} />
        <CopyBlock label="Variables" text={detail.query.variables} />
        <CopyBlock label="curl" text={detail.query.curl} />
        <p>
          <a href={`/console/query?feature=${encodeURIComponent(`${s.entity}.${s.name}`)}`}>
            Open in the playground
          </a>
        </p>
      </section>
    </>
  );
}

/** Reads the feature for an id through `POST /v1/features`, the REST read path. */
function SampleValues({ entity, detail }: { entity: string; detail: FeatureDetail }) {
  const [id, setId] = useState('');
  const [result, setResult] = useState<unknown>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const name = detail.summary.name;
  const read = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      const feature =
        detail.summary.featureType === 'action' ? { name, count: Math.min(10, detail.maxCount) } : { name };
      const answer = await api<{ results: { id: string; features: Record<string, unknown> }[] }>(
        '/v1/features',
        {
          method: 'POST',
          body: { entity, ids: [id.trim()], features: [feature] },
        },
      );
      setResult(answer.results[0]?.features[name] ?? null);
    } catch (err) {
      setResult(undefined);
      setError(err instanceof ApiError ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="sample">
      <h2 id="sample">Sample values</h2>
      <form class="filters" onSubmit={(e) => (e.preventDefault(), void read())}>
        <div class="field">
          <label for="sample-id">{entity} id</label>
          <input id="sample-id" value={id} onInput={(e) => setId(e.currentTarget.value)} required />
        </div>
        <button type="submit" class="primary" disabled={busy || id.trim() === ''}>
          Read value
        </button>
      </form>
      <ErrorNote error={error} />
      <div aria-live="polite">
        {result === undefined ? null : (
          <pre
            class="code"
            data-testid="sample-value"
            tabIndex={0}
            aria-label={`Value of ${name} for id ${id}`}
          >
            {result === null ? 'null (no value for this id)' : JSON.stringify(result, null, 2)}
          </pre>
        )}
      </div>
    </section>
  );
}
