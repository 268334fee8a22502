import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ConsoleInfo } from '../../serve/admin/admin-types.ts';
import { api, apiKey, onKeyNeeded } from './api.ts';
import { Layout } from './layout.tsx';
import { DeadLetterPage, DeadLettersPage } from './pages/dead-letters.tsx';
import { FeaturePage } from './pages/feature.tsx';
import { FeaturesPage } from './pages/features.tsx';
import { JobPage } from './pages/job.tsx';
import { JobsPage } from './pages/jobs.tsx';
import { RegistryPage } from './pages/registry.tsx';
import { StreamsPage } from './pages/streams.tsx';
import { KeyForm } from './parts/key-form.tsx';
import { ErrorNote, Loading } from './parts/status.tsx';
import { interceptLinks, navigate, useLocation } from './router.ts';
import './styles.css';

// The playground (CodeMirror and graphql-js) is loaded when its page opens, not before.
type QueryPageType = typeof import('./pages/query.tsx').QueryPage;
let loadedQueryPage: QueryPageType | undefined;

function LazyQueryPage() {
  const [Page, setPage] = useState<QueryPageType | undefined>(() => loadedQueryPage);
  const [error, setError] = useState<Error | undefined>(undefined);
  useEffect(() => {
    if (Page !== undefined) return;
    import('./pages/query.tsx').then(
      (m) => ((loadedQueryPage = m.QueryPage), setPage(() => m.QueryPage)),
      (err: Error) => setError(err),
    );
  }, []);
  if (Page !== undefined) return <Page />;
  return error === undefined ? (
    <Loading when={true}>Loading the editor…</Loading>
  ) : (
    <ErrorNote error={error} />
  );
}

const TITLES: Record<string, string> = {
  features: 'Features',
  streams: 'Streams',
  jobs: 'Jobs',
  dlq: 'Dead letters',
  query: 'Query',
  registry: 'Registry',
};

function App() {
  const loc = useLocation();
  const [info, setInfo] = useState<ConsoleInfo | undefined>(undefined);
  const [infoError, setInfoError] = useState<Error | undefined>(undefined);
  const [needKey, setNeedKey] = useState(false);
  const [keyVersion, setKeyVersion] = useState(0);

  useEffect(
    () =>
      onKeyNeeded((needed) => {
        setNeedKey(needed);
        if (!needed) setKeyVersion((v) => v + 1);
      }),
    [],
  );
  useEffect(() => {
    api<ConsoleInfo>('/v1/admin/info').then(
      (i) => (setInfo(i), setInfoError(undefined)),
      (err: Error) => setInfoError(err),
    );
  }, [keyVersion]);

  const parts = loc.path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  const section = parts[0] ?? 'features';
  useEffect(() => {
    document.title = `${[parts.slice(1).join('.'), TITLES[section] ?? 'Not found'].filter((p) => p !== '').join(' · ')} — Larder`;
  }, [loc.path]);
  useEffect(() => {
    if (loc.path === '/') navigate('/console/features', true);
  }, [loc.path]);

  if (needKey || (info === undefined && infoError !== undefined && apiKey() === null)) {
    return (
      <Layout path={loc.path} info={undefined}>
        <KeyForm
          message={
            apiKey() === null
              ? 'This server needs an API key.'
              : 'The key was not accepted; give another one.'
          }
        />
      </Layout>
    );
  }
  const admin = info === undefined || info.access === 'admin';
  return (
    <Layout path={loc.path} info={info}>
      <ErrorNote error={infoError} />
      <Loading when={info === undefined && infoError === undefined} />
      {info === undefined ? null : page(section, parts, loc.query, admin, keyVersion)}
    </Layout>
  );
}

function page(section: string, parts: string[], query: URLSearchParams, admin: boolean, keyVersion: number) {
  const key = `${keyVersion}`;
  switch (section) {
    case 'features':
      return parts.length >= 3 ? (
        <FeaturePage key={key} entity={parts[1] ?? ''} feature={parts[2] ?? ''} />
      ) : (
        <FeaturesPage key={key} query={query} />
      );
    case 'streams':
      return <StreamsPage key={key} query={query} />;
    case 'jobs':
      return parts.length >= 2 ? (
        <JobPage key={key} id={parts[1] ?? ''} admin={admin} />
      ) : (
        <JobsPage key={key} query={query} />
      );
    case 'dlq':
      return parts.length >= 2 ? (
        <DeadLetterPage key={key} id={parts[1] ?? ''} admin={admin} />
      ) : (
        <DeadLettersPage key={key} query={query} admin={admin} />
      );
    case 'query':
      return <LazyQueryPage key={key} />;
    case 'registry':
      return <RegistryPage key={key} />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            No console page at this address. Start from the <a href="/console/features">feature catalog</a>.
          </p>
        </section>
      );
  }
}

const root = document.getElementById('app');
if (root !== null) {
  interceptLinks(root);
  render(<App />, root);
}
