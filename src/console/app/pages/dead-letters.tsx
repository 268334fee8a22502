import { useState } from 'preact/hooks';
import type {
  DeadLetterDetail,
  DeadLetterList,
  Facet,
  ReplayReport,
} from '../../../serve/admin/admin-types.ts';
import { api, queryString } from '../api.ts';
import { num, time } from '../format.ts';
import { Confirm } from '../parts/confirm.tsx';
import { Pager } from '../parts/pager.tsx';
import { ErrorNote, Loading } from '../parts/status.tsx';
import { useData } from '../parts/use-data.ts';
import { navigate, setQuery } from '../router.ts';

const FILTERS = [
  ['stream', 'Stream'],
  ['code', 'Code'],
  ['feature', 'Feature'],
] as const;
const LIMIT = 50;

/** The dead-letter table, oldest first, filtered by stream, code and feature, with replay. */
export function DeadLettersPage({ query, admin }: { query: URLSearchParams; admin: boolean }) {
  const filter = {
    stream: query.get('stream') ?? '',
    code: query.get('code') ?? '',
    feature: query.get('feature') ?? '',
  };
  const after = query.get('after') ?? '';
  const url = `/v1/admin/dlq${queryString({ ...filter, after, limit: LIMIT })}`;
  const { data, error, loading, reload } = useData(url, () => api<DeadLetterList>(url), 5_000);
  const [asking, setAsking] = useState(false);
  const [report, setReport] = useState<ReplayReport | undefined>(undefined);
  const [replayError, setReplayError] = useState<Error | undefined>(undefined);
  const filtered = Object.values(filter).some((v) => v !== '');
  const replay = async (): Promise<void> => {
    setAsking(false);
    setReplayError(undefined);
    try {
      const body = { filter: Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== '')) };
      setReport(await api<ReplayReport>('/v1/admin/dlq/replay', { method: 'POST', body }));
      reload();
    } catch (err) {
      setReplayError(err as Error);
    }
  };
  const [facets, setFacets] = useState<DeadLetterList['facets'] | undefined>(undefined);
  // Facets come with the first page; later pages keep the ones seen.
  if (data !== undefined && after === '' && data.facets !== facets) setFacets(data.facets);

  return (
    <section aria-labelledby="dlq-title">
      <h1 id="dlq-title">Dead letters</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        {FILTERS.map(([key, label]) => (
          <FilterSelect
            key={key}
            id={`dlq-${key}`}
            label={label}
            value={filter[key]}
            facets={facets?.[key] ?? []}
            onChange={(v) => setQuery({ [key]: v, after: undefined })}
          />
        ))}
        {admin ? (
          <button
            type="button"
            class="primary"
            onClick={() => setAsking(true)}
            disabled={data === undefined || data.inTable === 0}
          >
            {filtered ? 'Replay matching dead letters…' : 'Replay all dead letters…'}
          </button>
        ) : null}
      </form>
      <Confirm
        open={asking}
        title="Replay dead letters?"
        confirmLabel="Replay"
        onConfirm={() => void replay()}
        onCancel={() => setAsking(false)}
      >
        {filtered
          ? `Every dead letter with ${Object.entries(filter)
              .filter(([, v]) => v !== '')
              .map(([k, v]) => `${k} ${v}`)
              .join(' and ')} is ingested again with its original identity.`
          : `All ${num(data?.inTable)} dead letters are ingested again with their original identity.`}{' '}
        Those rejected again are dead-lettered anew (the same as larder dlq replay).
      </Confirm>
      <div aria-live="polite">
        {report === undefined ? null : (
          <p class="note ok">
            Replayed {num(report.replayed)}: {num(report.accepted)} accepted, {num(report.filtered)} filtered,{' '}
            {num(report.rejected)} rejected again.
          </p>
        )}
      </div>
      <ErrorNote error={replayError ?? error} />
      <Loading when={loading && data === undefined} />
      {data === undefined ? null : (
        <>
          <p class="muted">{num(data.inTable)} dead letters in the table, oldest first.</p>
          {data.items.length === 0 ? (
            <p>No dead letter matches.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Dead letters</caption>
                <thead>
                  <tr>
                    <th scope="col">Dead letter</th>
                    <th scope="col">When</th>
                    <th scope="col">Stream / topic</th>
                    <th scope="col">Code</th>
                    <th scope="col">Feature</th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((d) => (
                    <tr key={d.id}>
                      <th scope="row">
                        <a href={`/console/dlq/${encodeURIComponent(d.id)}`}>{d.id}</a>
                      </th>
                      <td>{time(d.at)}</td>
                      <td>
                        {d.stream}/{d.topic}
                      </td>
                      <td>{d.code}</td>
                      <td>{d.feature ?? '–'}</td>
                      <td>{d.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager
            label="Dead-letter pages"
            previous={after === '' ? undefined : `/console/dlq${queryString(filter)}`}
            next={
              data.next === undefined
                ? undefined
                : `/console/dlq${queryString({ ...filter, after: data.next })}`
            }
            summary={after === '' ? 'oldest first' : 'later entries'}
          />
        </>
      )}
    </section>
  );
}

function FilterSelect({
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
  onChange: (v: string) => void;
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

/** One dead letter: its payload, reason and origin, with a replay of just this one. */
export function DeadLetterPage({ id, admin }: { id: string; admin: boolean }) {
  const url = `/v1/admin/dlq/${encodeURIComponent(id)}`;
  const { data, error, loading } = useData(url, () => api<DeadLetterDetail>(url));
  const [asking, setAsking] = useState(false);
  const [report, setReport] = useState<ReplayReport | undefined>(undefined);
  const [replayError, setReplayError] = useState<Error | undefined>(undefined);
  const replay = async (): Promise<void> => {
    setAsking(false);
    try {
      setReport(await api<ReplayReport>('/v1/admin/dlq/replay', { method: 'POST', body: { ids: [id] } }));
    } catch (err) {
      setReplayError(err as Error);
    }
  };
  return (
    <article aria-labelledby="dl-title">
      <p class="crumbs">
        <a href="/console/dlq">Dead letters</a>
      </p>
      <h1 id="dl-title">Dead letter {id}</h1>
      <div aria-live="polite">
        {report === undefined ? null : (
          <p class="note ok" data-testid="replay-report">
            Replayed: {report.accepted} accepted, {report.filtered} filtered, {report.rejected} rejected
            again.{' '}
            <button type="button" class="link" onClick={() => navigate('/console/dlq')}>
              Back to the list
            </button>
          </p>
        )}
      </div>
      <ErrorNote error={report === undefined ? (replayError ?? error) : replayError} />
      <Loading when={loading && data === undefined} />
      {data === undefined || report !== undefined ? null : (
        <>
          <dl class="facts">
            <dt>Reason</dt>
            <dd>
              <strong>{data.code}</strong>: {data.reason}
            </dd>
            <dt>Feature</dt>
            <dd>{data.feature ?? '–'}</dd>
            <dt>Stream / topic</dt>
            <dd>
              {data.stream}/{data.topic}
            </dd>
            <dt>Dead-lettered</dt>
            <dd>{time(data.at)}</dd>
            <dt>Origin</dt>
            <dd>{data.origin}</dd>
            <dt>Attempts</dt>
            <dd>{data.attempts}</dd>
          </dl>
          {admin ? (
            <button type="button" class="primary" onClick={() => setAsking(true)}>
              Replay this dead letter…
            </button>
          ) : (
            <p class="muted">Replay needs an admin key.</p>
          )}
          <Confirm
            open={asking}
            title="Replay this dead letter?"
            confirmLabel="Replay"
            onConfirm={() => void replay()}
            onCancel={() => setAsking(false)}
          >
            The event is ingested again with its original identity; if it is rejected again it is
            dead-lettered anew.
          </Confirm>
          <h2>Payload</h2>
          <pre class="code" tabIndex={0} aria-label="Payload">
            {data.raw ?? JSON.stringify(data.body, null, 2)}
          </pre>
        </>
      )}
    </article>
  );
}
