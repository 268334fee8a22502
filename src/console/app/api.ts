/**
 * The console's one way to talk to the server: JSON over `/v1/...`, with the API key the user gave
 * (kept in this browser's localStorage; auth is the same keys as every other client).
 */
const KEY_ITEM = 'larder-console-key';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

type KeyListener = (needed: boolean) => void;
const listeners = new Set<KeyListener>();

export function apiKey(): string | null {
  try {
    return localStorage.getItem(KEY_ITEM);
  } catch {
    return null;
  }
}

export function setApiKey(key: string | null): void {
  if (key === null) localStorage.removeItem(KEY_ITEM);
  else localStorage.setItem(KEY_ITEM, key);
  for (const listener of listeners) listener(false);
}

/** Called with `true` whenever the server asks for a key (401). */
export function onKeyNeeded(listener: KeyListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const key = apiKey();
  if (key !== null) headers['authorization'] = `Bearer ${key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  const body = text === '' ? undefined : (JSON.parse(text) as unknown);
  if (!response.ok) {
    if (response.status === 401) for (const listener of listeners) listener(true);
    const err = (body ?? {}) as { code?: string; message?: string; hint?: string };
    throw new ApiError(
      response.status,
      err.code ?? `HTTP_${response.status}`,
      err.message ?? response.statusText,
      err.hint ?? '',
    );
  }
  return body as T;
}

/** `?a=1&b=x` from the defined, non-empty entries of `params`. */
export function queryString(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
