import type { Series, StreamStatus, StreamsReport } from '../../../serve/admin/admin-types.ts';
import { api } from '../api.ts';
import { num, rate } from '../format.ts';
import { ErrorNote, Loading } from '../parts/status.tsx';
import { COLORS, TimeChart, type Line } from '../parts/time-chart.tsx';
import { useData } from '../parts/use-data.ts';
import { setQuery } from '../router.ts';

/** The time ranges the charts can show (the server keeps an hour). */
const RANGES: readonly [string, string, number][] = [
  ['5m', 'Last 5 minutes', 300_000],
  ['15m', 'Last 15 minutes', 900_000],
  ['1h', 'Last hour', 3_600_000],
];

const OUTCOMES: readonly Line[] = [
  { key: 'written', label: 'written', color: COLORS[0] ?? '' },
  { key: 'filtered', label: 'filtered', color: COLORS[3] ?? '' },
  { key: 'rejected', label: 'rejected', color: COLORS[1] ?? '' },
  { key: 'deadLettered', label: 'dead-lettered', color: COLORS[4] ?? '' },
  { key: 'retried', label: 'retried', color: COLORS[5] ?? '' },
];

/** Every stream/topic the registry reads: rates by outcome, lag and retry tiers over the last hour. */
export function StreamsPage({ query }: { query: URLSearchParams }) {
  const { data, error, loading } = useData('streams', () => api<StreamsReport>('/v1/admin/streams'), 2_000);
  const range = RANGES.find(([key]) => key === query.get('range')) ?? RANGES[2]!;
  return (
    <section aria-labelledby="streams-title">
      <h1 id="streams-title">Streams</h1>
      <ErrorNote error={error} />
      <Loading when={loading && data === undefined} />
      {data === undefined ? null : (
        <>
          <form class="filters" onSubmit={(e) => e.preventDefault()}>
            <div class="field">
              <label for="stream-range">Time range</label>
              <select
                id="stream-range"
                value={range[0]}
                onChange={(e) => setQuery({ range: e.currentTarget.value })}
              >
                {RANGES.map(([key, label]) => (
                  <option key={key} value={key}>
                    {label}
                  </option>
                ))}
              </select>
            </div>
            <p class="muted">
              One point every {num(data.sampleMs / 1000, 1)} s, kept in this server's memory for an hour.
              Outcomes are totals since the server started.
            </p>
          </form>
          {data.streams.length === 0 ? <p>The registry reads no stream.</p> : null}
          {data.streams.map((s) => (
            <StreamCard
              key={s.id}
              status={{ ...s, series: lastPoints(s.series, Math.ceil(range[2] / data.sampleMs)) }}
            />
          ))}
        </>
      )}
    </section>
  );
}

function StreamCard({ status }: { status: StreamStatus }) {
  const t = status.totals;
  const headingId = `stream-${status.id.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  const tiers = Object.keys(status.series.columns).filter((k) => k.startsWith('tier:'));
  const broker = status.source !== 'http';
  return (
    <section class="card" aria-labelledby={headingId} data-stream={status.id}>
      <h2 id={headingId}>
        {status.stream} / {status.topic} <span class="badge neutral">{status.source}</span>
      </h2>
      <dl class="stats">
        <div>
          <dt>Events</dt>
          <dd data-testid="events-rate">{rate(status.eventsPerSec)}</dd>
        </div>
        <div>
          <dt>Lag</dt>
          <dd>{broker ? num(status.lag) : 'n/a (push)'}</dd>
        </div>
        <div>
          <dt>Written</dt>
          <dd>{num(t.written)}</dd>
        </div>
        <div>
          <dt>Deduplicated</dt>
          <dd title="The store absorbs redelivered events without telling; not counted yet">
            {num(t.deduplicated)}
          </dd>
        </div>
        <div>
          <dt>Filtered</dt>
          <dd>{num(t.filtered)}</dd>
        </div>
        <div>
          <dt>Rejected</dt>
          <dd>{num(t.rejected)}</dd>
        </div>
        <div>
          <dt>Dead-lettered</dt>
          <dd>{num(t.deadLettered)}</dd>
        </div>
        <div>
          <dt>Retried</dt>
          <dd>{num(t.retried)}</dd>
        </div>
      </dl>
      <div class="charts">
        <TimeChart
          title={`${status.id}: events per second`}
          series={status.series}
          lines={[{ key: 'events', label: 'events/s', color: COLORS[0] ?? '' }]}
          unit="events per second"
        />
        <TimeChart
          title={`${status.id}: outcomes per second`}
          series={status.series}
          lines={OUTCOMES}
          unit="per second"
        />
        {broker ? (
          <TimeChart
            title={`${status.id}: lag and retry tiers`}
            series={status.series}
            lines={[
              { key: 'lag', label: 'lag', color: COLORS[1] ?? '' },
              ...tiers.map((k, i) => ({
                key: k,
                label: k.slice(5),
                color: COLORS[(i + 2) % COLORS.length] ?? '',
              })),
            ]}
            unit="messages"
          />
        ) : null}
      </div>
      {status.retryTiers.length === 0 ? null : (
        <p>
          Retry tiers:{' '}
          {status.retryTiers.map((r) => (
            <span key={r.source} class="badge neutral">
              {r.source}: {num(r.depth)}
            </span>
          ))}
        </p>
      )}
    </section>
  );
}

function lastPoints(series: Series, points: number): Series {
  return {
    t: series.t.slice(-points),
    columns: Object.fromEntries(Object.entries(series.columns).map(([k, v]) => [k, v.slice(-points)])),
  };
}
