import { useEffect, useState } from 'preact/hooks';
import type { JobDetail } from '../../../serve/admin/admin-types.ts';
import { api } from '../api.ts';
import { bytes, duration, num, percent, time } from '../format.ts';
import { Confirm } from '../parts/confirm.tsx';
import { DagGraph } from '../parts/dag-graph.tsx';
import { ErrorNote, Loading, Progress, StateBadge } from '../parts/status.tsx';
import { useData } from '../parts/use-data.ts';

const TERMINAL = ['succeeded', 'failed', 'cancelled'];

/** One job at its stable URL: live progress while it runs, its log, bad rows, DAG, retry and cancel. */
export function JobPage({ id, admin }: { id: string; admin: boolean }) {
  const url = `/v1/admin/jobs/${encodeURIComponent(id)}`;
  const [running, setRunning] = useState(true);
  const { data, error, loading, reload } = useData(url, () => api<JobDetail>(url), running ? 1_000 : 10_000);
  const finished = data !== undefined && TERMINAL.includes(data.summary.state);
  useEffect(() => setRunning(!finished), [finished]);
  return (
    <article aria-labelledby="job-title">
      <p class="crumbs">
        <a href="/console/jobs">Jobs</a>
      </p>
      <h1 id="job-title">Job {id}</h1>
      <ErrorNote error={error} />
      <Loading when={loading && data === undefined} />
      {data === undefined ? null : <JobBody job={data} admin={admin} onChanged={reload} />}
    </article>
  );
}

function JobBody({ job, admin, onChanged }: { job: JobDetail; admin: boolean; onChanged: () => void }) {
  const s = job.summary;
  const p = s.progress;
  const [asking, setAsking] = useState<'retry' | 'cancel' | null>(null);
  const [actionError, setActionError] = useState<Error | undefined>(undefined);
  const [done, setDone] = useState('');
  const act = async (action: 'retry' | 'cancel'): Promise<void> => {
    setAsking(null);
    setActionError(undefined);
    try {
      await api(`/v1/admin/jobs/${encodeURIComponent(s.id)}/${action}`, { method: 'POST' });
      setDone(action === 'retry' ? 'Retry started.' : 'Job cancelled.');
      onChanged();
    } catch (err) {
      setActionError(err as Error);
    }
  };
  return (
    <>
      <div class="job-head">
        <StateBadge state={s.state} />
        {s.stuck ? (
          <span class="badge warn" role="alert">
            stuck: no progress since {time(p.lastProgressAt)}
          </span>
        ) : null}
        <span>
          {s.ingestion} → {s.feature}
        </span>
      </div>
      <div class="actions">
        {admin && job.canRetry ? (
          <button type="button" class="primary" onClick={() => setAsking('retry')}>
            Retry job
          </button>
        ) : null}
        {admin && job.canCancel ? (
          <button type="button" class="danger" onClick={() => setAsking('cancel')}>
            Cancel job
          </button>
        ) : null}
        {!admin && (job.canRetry || job.canCancel) ? (
          <span class="muted">Retry and cancel need an admin key.</span>
        ) : null}
        <span role="status">{done}</span>
      </div>
      <ErrorNote error={actionError} />
      <Confirm
        open={asking !== null}
        title={asking === 'retry' ? 'Retry this job?' : 'Cancel this job?'}
        confirmLabel={asking === 'retry' ? 'Retry' : 'Cancel job'}
        onConfirm={() => void act(asking ?? 'retry')}
        onCancel={() => setAsking(null)}
      >
        {asking === 'retry'
          ? `Job ${s.id} runs again as attempt ${s.attempt + 1}, re-running its unfinished tasks (the same as larder jobs retry).`
          : `Job ${s.id} stops; its running tasks stop at their next batch (the same as larder jobs cancel).`}
      </Confirm>

      <section aria-labelledby="progress">
        <h2 id="progress">Progress</h2>
        <Progress fraction={p.fraction} label={`Progress of job ${s.id}`} />
        <dl class="facts">
          <dt>Read</dt>
          <dd>
            {bytes(p.bytesRead)} of {bytes(p.bytesTotal)}, {num(p.rowsRead)} rows
          </dd>
          <dt>Rows</dt>
          <dd>
            {num(p.written)} written, {num(p.filtered)} filtered, {num(p.rejected)} rejected (
            {percent(p.errorRate)}; limit {percent(job.maxErrorRate)})
          </dd>
          <dt>Tasks</dt>
          <dd>
            {p.tasksSucceeded} succeeded, {p.tasksRunning} running, {p.tasksFailed} failed, of {p.tasksTotal}
          </dd>
          <dt>Attempt</dt>
          <dd>
            {s.attempt} ({s.trigger}, {job.mode})
          </dd>
          <dt>Created</dt>
          <dd>{time(s.createdAt)}</dd>
          <dt>Started</dt>
          <dd>{time(s.startedAt)}</dd>
          <dt>Finished</dt>
          <dd>{time(s.finishedAt)}</dd>
          <dt>Duration</dt>
          <dd>{duration(s.durationMs)}</dd>
          <dt>Source</dt>
          <dd>
            <code>{job.source}</code>
          </dd>
          <dt>Plan</dt>
          <dd>{job.plan ?? '–'}</dd>
        </dl>
        {s.failure === null ? null : (
          <div class="note error">
            <strong>{s.failure.code}</strong>: {s.failure.message}
          </div>
        )}
      </section>

      <section aria-labelledby="dag">
        <h2 id="dag">Dependencies</h2>
        <DagGraph dag={job.dag} />
      </section>

      <section aria-labelledby="bad-rows">
        <h2 id="bad-rows">Bad rows (sample)</h2>
        {job.errorSamples.length === 0 ? (
          <p class="muted">No rejected row.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Position</th>
                  <th scope="col">Code</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Row</th>
                </tr>
              </thead>
              <tbody>
                {job.errorSamples.map((r, i) => (
                  <tr key={i}>
                    <td>
                      <code>{r.position}</code>
                    </td>
                    <td>{r.code}</td>
                    <td>{r.reason}</td>
                    <td>
                      <code class="wrap">{r.row}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="logs">
        <h2 id="logs">Log</h2>
        <pre class="code log" tabIndex={0} aria-label="Job log">
          {job.logs.map((l) => `${time(l.at)}  ${l.level.padEnd(5)}  ${l.message}`).join('\n') ||
            'No log line yet.'}
        </pre>
      </section>
    </>
  );
}
