import type { ComponentChildren } from 'preact';
import type { ConsoleInfo } from '../../serve/admin/admin-types.ts';
import { apiKey, setApiKey } from './api.ts';
import { BASE } from './router.ts';

const NAV: readonly [string, string][] = [
  ['/features', 'Features'],
  ['/streams', 'Streams'],
  ['/jobs', 'Jobs'],
  ['/dlq', 'Dead letters'],
  ['/query', 'Query'],
  ['/registry', 'Registry'],
];

/** The frame of every page: a skip link, the site navigation, and the page as `main`. */
export function Layout({
  path,
  info,
  children,
}: {
  path: string;
  info: ConsoleInfo | undefined;
  children: ComponentChildren;
}) {
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={`${BASE}/features`}>
          Larder console
        </a>
        <nav aria-label="Pages">
          <ul>
            {NAV.map(([href, label]) => {
              const active = path === href || path.startsWith(`${href}/`);
              return (
                <li key={href}>
                  <a href={`${BASE}${href}`} aria-current={active ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              );
            })}
          </ul>
        </nav>
        <div class="who">
          {info === undefined ? null : (
            <span>
              v{info.version} · {info.auth ? `${info.access} key` : 'auth off'}
            </span>
          )}
          {apiKey() === null ? null : (
            <button type="button" class="link" onClick={() => setApiKey(null)}>
              Forget key
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
