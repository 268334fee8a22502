import { useEffect, useState } from 'preact/hooks';

/** Every page lives under this path; the rest of the URL (and its query) is the page's state. */
export const BASE = '/console';

type Listener = () => void;
const listeners = new Set<Listener>();

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', notify);

/** Goes to `href` (a `/console/...` URL) without reloading; `replace` keeps history short for filters. */
export function navigate(href: string, replace = false): void {
  if (href === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  notify();
  if (!replace) window.scrollTo(0, 0);
}

export interface Location {
  /** The path below `/console`, without a trailing slash: `/features/user/os`. */
  readonly path: string;
  readonly query: URLSearchParams;
}

function current(): Location {
  const rest = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return { path: rest.replace(/\/+$/, '') || '/', query: new URLSearchParams(location.search) };
}

/** The current location; re-renders on every navigation. */
export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = (): void => setLoc(current());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return loc;
}

/** Sets some query parameters of the current page (empty values removed), replacing the entry. */
export function setQuery(changes: Record<string, string | undefined>, replace = true): void {
  const query = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') query.delete(k);
    else query.set(k, v);
  }
  const text = query.toString();
  navigate(`${location.pathname}${text === '' ? '' : `?${text}`}`, replace);
}

/** Intercepts clicks on same-origin `/console` links, so the app routes them without a reload. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    const anchor = (event.target as Element | null)?.closest('a');
    if (anchor === null || anchor === undefined || anchor.target !== '' || anchor.hasAttribute('download'))
      return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith(`${BASE}/`)) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}
