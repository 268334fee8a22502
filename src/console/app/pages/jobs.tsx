import { useEffect, useState } from 'preact/hooks';
import type { JobList, JobStateName, JobSummary } from '../../../serve/admin/admin-types.ts';
import { api, queryString } from '../api.ts';
import { duration, num, time } from '../format.ts';
import { Pager } from '../parts/pager.tsx';
import { ErrorNote, Loading, Progress, StateBadge } from '../parts/status.tsx';
import { useData } from '../parts/use-data.ts';
import { setQuery } from '../router.ts';

const STATES: readonly JobStateName[] = ['queued', 'runnable', 'running', 'succeeded', 'failed', 'cancelled'];
const LIMIT = 50;

/** Batch jobs, newest first, filtered and paged by the server; refreshed every 2 s. */
export function JobsPage({ query }: { query: URLSearchParams }) {
  const params = {
    state: query.get('state') ?? '',
    q: query.get('q') ?? '',
    ingestion: query.get('ingestion') ?? '',
    before: query.get('before') ?? '',
  };
  const [text, setText] = useState(params.q);
  useEffect(() => {
    const timer = window.setTimeout(() => {
      if (text !== params.q) setQuery({ q: text, before: undefined });
    }, 250);
    return () => window.clearTimeout(timer);
  }, [text]);
  const url = `/v1/admin/jobs${queryString({ ...params, limit: LIMIT })}`;
  const { data, error, loading } = useData(url, () => api<JobList>(url), 2_000);
  const href = (before: string | undefined): string => `/console/jobs${queryString({ ...params, before })}`;

  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      {data === undefined || data.stuck.length === 0 ? null : <StuckAlerts jobs={data.stuck} />}
      {data === undefined ? null : (
        <ul class="chips" aria-label="Jobs per state">
          {STATES.map((s) => (
            <li key={s}>
              <a
                href={`/console/jobs${queryString({ state: s })}`}
                aria-current={params.state === s ? 'true' : undefined}
              >
                <StateBadge state={s} /> {num(data.counts[s])}
              </a>
            </li>
          ))}
        </ul>
      )}
      <form
        class="filters"
        role="search"
        onSubmit={(e) => (e.preventDefault(), setQuery({ q: text, before: undefined }))}
      >
        <div class="field grow">
          <label for="job-search">Search jobs (id or ingestion)</label>
          <input id="job-search" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="job-state">State</label>
          <select
            id="job-state"
            value={params.state}
            onChange={(e) => setQuery({ state: e.currentTarget.value, before: undefined })}
          >
            <option value="">Any</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ErrorNote error={error} />
      <Loading when={loading && data === undefined} />
      {data === undefined ? null : (
        <>
          <JobTable jobs={data.items} />
          <Pager
            label="Job pages"
            previous={params.before === '' ? undefined : href(undefined)}
            next={data.next === undefined ? undefined : href(data.next)}
            summary={params.before === '' ? 'newest first' : 'older jobs'}
          />
        </>
      )}
    </section>
  );
}

function StuckAlerts({ jobs }: { jobs: readonly JobSummary[] }) {
  return (
    <div class="note warn" role="alert">
      <strong>
        {jobs.length} stuck job{jobs.length === 1 ? '' : 's'}
      </strong>{' '}
      (no progress since the alert):{' '}
      {jobs.map((j, i) => (
        <span key={j.id}>
          {i === 0 ? '' : ', '}
          <a href={j.url}>
            {j.ingestion} ({j.id})
          </a>{' '}
          {j.state}
        </span>
      ))}
    </div>
  );
}

export function JobTable({ jobs }: { jobs: readonly JobSummary[] }) {
  if (jobs.length === 0) return <p>No job matches.</p>;
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">Batch jobs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Ingestion</th>
            <th scope="col">State</th>
            <th scope="col">Progress</th>
            <th scope="col">Rows</th>
            <th scope="col">Attempt</th>
            <th scope="col">Duration</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id}>
              <th scope="row">
                <a href={j.url}>{j.id}</a>
              </th>
              <td>
                {j.ingestion}
                <div class="muted small">{j.feature}</div>
              </td>
              <td>
                <StateBadge state={j.state} />
                {j.stuck ? <span class="badge warn">stuck</span> : null}
              </td>
              <td>
                <Progress fraction={j.progress.fraction} label={`Progress of job ${j.id}`} />
              </td>
              <td>
                {num(j.progress.rowsRead)}
                {j.progress.rejected > 0 ? (
                  <div class="small">{num(j.progress.rejected)} rejected</div>
                ) : null}
              </td>
              <td>{j.attempt}</td>
              <td>{duration(j.durationMs)}</td>
              <td>{time(j.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
