import type {
  RegistryRolloutView,
  RegistryStatusView,
  SpecIssueView,
} from '../../../serve/admin/admin-types.ts';
import { api } from '../api.ts';
import { ago, num, time } from '../format.ts';
import { ErrorNote, Loading } from '../parts/status.tsx';
import { useData } from '../parts/use-data.ts';

/** The registry version in force, when it was applied, and the last change the watcher refused. */
export function RegistryPage() {
  const { data, error, loading } = useData(
    'registry',
    () => api<RegistryStatusView>('/v1/admin/registry'),
    5_000,
  );
  return (
    <section aria-labelledby="registry-title">
      <h1 id="registry-title">Registry</h1>
      <ErrorNote error={error} />
      <Loading when={loading && data === undefined} />
      {data === undefined ? null : (
        <>
          <dl class="facts">
            <dt>Running version</dt>
            <dd>
              <code data-testid="registry-version">{data.version}</code>
            </dd>
            <dt>Applied</dt>
            <dd>
              {time(data.appliedAt)} ({ago(data.appliedAt)})
            </dd>
            <dt>Directory</dt>
            <dd>
              <code>{data.dir}</code>
            </dd>
            <dt>Declares</dt>
            <dd>
              {num(data.counts.entities)} entities, {num(data.counts.streams)} streams,{' '}
              {num(data.counts.features)} feature groups, {num(data.counts.ingestions)} ingestions
            </dd>
          </dl>
          {data.refused === undefined || data.refused === null ? null : (
            <div class="note error" role="alert" data-testid="registry-refused">
              <strong>The registry source offers a breaking change that is refused.</strong>{' '}
              {data.refused.reason}
              <ul>
                {data.refused.breaking.map((b) => (
                  <li key={b}>
                    <code>{b}</code>
                  </li>
                ))}
              </ul>
            </div>
          )}
          {data.rollout === undefined || data.rollout === null ? null : <Rollout rollout={data.rollout} />}
          <section aria-labelledby="refused">
            <h2 id="refused">Last refused change</h2>
            {data.lastRefused === null ? (
              <p>No change has been refused since this server started.</p>
            ) : (
              <>
                <p class="note error">
                  Refused {time(data.lastRefused.at)} ({ago(data.lastRefused.at)}); the running version stayed
                  in force.
                </p>
                <Issues issues={data.lastRefused.issues} label="Errors of the refused change" />
              </>
            )}
          </section>
          <section aria-labelledby="warnings">
            <h2 id="warnings">Warnings of the running version</h2>
            {data.warnings.length === 0 ? <p>None.</p> : <Issues issues={data.warnings} label="Warnings" />}
          </section>
        </>
      )}
    </section>
  );
}

/** The applied version of the store, and which process runs which version (docs/registry.md). */
function Rollout({ rollout }: { rollout: RegistryRolloutView }) {
  const applied = rollout.applied;
  return (
    <section aria-labelledby="rollout">
      <h2 id="rollout">Rollout</h2>
      {applied === null ? (
        <p>No version has been applied through the store yet.</p>
      ) : (
        <p>
          Applied version {applied.seq} (<code>{applied.version.slice(0, 12)}</code>
          {applied.commit === null ? '' : `, commit ${applied.commit.slice(0, 12)}`}) {ago(applied.appliedAt)}{' '}
          by <code>{applied.command}</code>.{' '}
          {rollout.converged ? 'Every process runs it.' : 'Not every process runs it yet.'}
        </p>
      )}
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Processes sharing the store and the registry version each runs</caption>
          <thead>
            <tr>
              <th scope="col">Process</th>
              <th scope="col">Host and pid</th>
              <th scope="col">Version</th>
              <th scope="col">Reported</th>
              <th scope="col">Refused change</th>
            </tr>
          </thead>
          <tbody>
            {rollout.processes.map((p) => (
              <tr key={p.id}>
                <th scope="row">{p.role}</th>
                <td>
                  {p.host}:{p.pid}
                </td>
                <td>
                  <code>{p.version.slice(0, 12)}</code> {p.seq === null ? '' : `(${p.seq})`}{' '}
                  {p.current ? '' : <span class="badge warn">behind</span>}
                </td>
                <td>{ago(p.at)}</td>
                <td>{p.refused === null ? 'none' : p.refused.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Issues({ issues, label }: { issues: readonly SpecIssueView[]; label: string }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">{label}</caption>
        <thead>
          <tr>
            <th scope="col">Where</th>
            <th scope="col">Code</th>
            <th scope="col">Message</th>
            <th scope="col">Hint</th>
          </tr>
        </thead>
        <tbody>
          {issues.map((i, n) => (
            <tr key={n}>
              <td>
                <code>
                  {i.file}:{i.line}:{i.column}
                </code>
              </td>
              <td>{i.code}</td>
              <td>{i.message}</td>
              <td>{i.hint}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
