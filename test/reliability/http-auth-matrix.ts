import { expect } from 'vitest';
import { RANK, type Access } from '../../src/serve/auth.ts';
import type { RouteAccess } from '../../src/serve/plugins/auth.ts';
import { pathVariants } from './http-path-variants.ts';
import { errorCodeOf, rawRequest, type RawAnswer } from './http-raw-request.ts';

/**
 * The auth matrix: every route the server serves × every key role × every spelling of its path
 * (http-path-variants.ts). Shared by the in-process run and the run against `larder serve`.
 */

export const KEYS = {
  read: 'read-key-0123456789abcdef',
  ingest: 'ingest-key-0123456789abcdef',
  admin: 'admin-key-0123456789abcdef',
} as const;

export const AUTH_ENV = {
  LARDER_API_KEYS: KEYS.read,
  LARDER_INGEST_KEYS: KEYS.ingest,
  LARDER_ADMIN_KEYS: KEYS.admin,
};

export type Role = 'none' | keyof typeof KEYS;
export const ROLES: readonly Role[] = ['none', 'read', 'ingest', 'admin'];

interface Sample {
  readonly path: string;
  readonly query?: string;
  readonly body?: unknown;
}

type Entry = readonly [access: Access, sample: Sample];

const gets = (url: string, access: Access, sample: Sample): [string, Entry][] => [
  [`GET ${url}`, [access, sample]],
  [`HEAD ${url}`, [access, sample]],
];

/**
 * Every route with the access it must declare (the table in docs/serving.md#routes) and a request
 * it accepts when the caller may use it; the matrix sends that request under every path spelling.
 * Admin parts a test server does not run (jobs, stream history, replay) answer their own 404.
 */
const ROUTES: ReadonlyMap<string, Entry> = new Map<string, Entry>([
  ...gets('/healthz', 'public', { path: '/healthz' }),
  ...gets('/readyz', 'public', { path: '/readyz' }),
  ...gets('/metrics', 'read', { path: '/metrics' }),
  ...gets('/graphql', 'read', { path: '/graphql', query: '?query=%7B__typename%7D' }),
  ['POST /graphql', ['read', { path: '/graphql', body: { query: '{ user(id: 1) { os } }' } }]],
  ['POST /v1/queries', ['admin', { path: '/v1/queries', body: { query: '{ user(id: 2) { os } }' } }]],
  [
    'POST /v1/features',
    ['read', { path: '/v1/features', body: { entity: 'user', ids: [1], features: [{ name: 'os' }] } }],
  ],
  [
    'POST /v1/streams/:stream/:topic',
    [
      'ingest',
      {
        path: '/v1/streams/ev/t',
        body: { name: 'app_open', user_id: 5, os: 'ios', ts: 1_700_000_000_000, event_id: 'matrix' },
      },
    ],
  ],
  ...gets('/v1/admin/info', 'read', { path: '/v1/admin/info' }),
  ...gets('/v1/admin/registry', 'read', { path: '/v1/admin/registry' }),
  ...gets('/v1/admin/registry/applied', 'read', { path: '/v1/admin/registry/applied' }),
  ['POST /v1/admin/registry/refresh', ['admin', { path: '/v1/admin/registry/refresh' }]],
  ...gets('/v1/admin/streams', 'read', { path: '/v1/admin/streams' }),
  ...gets('/v1/admin/features', 'read', { path: '/v1/admin/features' }),
  ...gets('/v1/admin/features/:entity/:feature', 'read', { path: '/v1/admin/features/user/os' }),
  ...gets('/v1/admin/jobs', 'read', { path: '/v1/admin/jobs' }),
  ...gets('/v1/admin/jobs/:id', 'read', { path: '/v1/admin/jobs/j1' }),
  ['POST /v1/admin/jobs/:id/retry', ['admin', { path: '/v1/admin/jobs/j1/retry' }]],
  ['POST /v1/admin/jobs/:id/cancel', ['admin', { path: '/v1/admin/jobs/j1/cancel' }]],
  ...gets('/v1/admin/dlq', 'read', { path: '/v1/admin/dlq' }),
  ...gets('/v1/admin/dlq/:id', 'read', { path: '/v1/admin/dlq/d1' }),
  ['POST /v1/admin/dlq/replay', ['admin', { path: '/v1/admin/dlq/replay', body: { ids: ['d1'] } }]],
  ...gets('/console', 'public', { path: '/console' }),
  ...gets('/console/*', 'public', { path: '/console/features' }),
  ...gets('/jobs/:id', 'public', { path: '/jobs/j1' }),
]);

export const EXPECTED_ACCESS: Readonly<Record<string, Access>> = Object.fromEntries(
  [...ROUTES].map(([key, [access]]) => [key, access]),
);

function allowed(role: Role, access: Access): boolean {
  return RANK[role === 'none' ? 'public' : role] >= RANK[access];
}

function send(base: string, method: string, sample: Sample, path: string, role: Role): Promise<RawAnswer> {
  const headers: Record<string, string> = {};
  if (role !== 'none') headers['x-api-key'] = KEYS[role];
  let body: string | undefined;
  if (sample.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(sample.body);
  }
  return rawRequest(base, { method, path: path + (sample.query ?? ''), headers, body });
}

/** Checks the route table itself: every route declares the documented access and has a sample. */
export function checkRouteTable(routes: readonly RouteAccess[]): void {
  const table = Object.fromEntries(routes.map((r) => [`${r.method} ${r.url}`, r.access]));
  expect(table).toEqual(EXPECTED_ACCESS);
  for (const key of Object.keys(table)) expect(ROUTES.get(key), `a sample request for ${key}`).toBeDefined();
}

/**
 * Sends every route's sample under every path spelling as every role, and checks what each
 * answer may be. With auth on: the plain path answers 401 (no key) or 403 (too little access)
 * exactly when the role lacks the route's access, and neither (nor the unmatched 404) otherwise; another
 * spelling answers either as the plain path does or 404, never more than the role may do. With auth
 * off, nothing is 401/403. Unmatched spellings answer the same 404 body to every role. Never 5xx.
 * Returns how many requests were sent.
 */
export async function runAuthMatrix(
  base: string,
  routes: readonly RouteAccess[],
  authOn: boolean,
  variantsOf: (path: string) => string[] = pathVariants,
): Promise<number> {
  let sent = 0;
  // Four routes at a time; each route's roles and spellings in order.
  const queue = [...routes];
  const worker = async (): Promise<void> => {
    for (let route = queue.shift(); route !== undefined; route = queue.shift())
      sent += await checkRoute(route);
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return sent;

  async function checkRoute(route: RouteAccess): Promise<number> {
    let count = 0;
    const key = `${route.method} ${route.url}`;
    const sample = (ROUTES.get(key) as Entry)[1];
    const notFoundBodies = new Map<string, string>();
    for (const role of ROLES) {
      const may = !authOn || allowed(role, route.access);
      const plain = await send(base, route.method, sample, sample.path, role);
      count++;
      const where = `${key} as ${role}, plain ${sample.path}`;
      if (may) {
        expect([401, 403], `${where}: ${plain.status} ${plain.text.slice(0, 200)}`).not.toContain(
          plain.status,
        );
        // A 404 of the route's own (a part this server does not run), never the unmatched one.
        if (plain.status === 404 && route.method !== 'HEAD')
          expect(errorCodeOf(plain), `${where}: ${plain.text.slice(0, 200)}`).not.toBe(
            'LARDER_ERR_NOT_FOUND',
          );
        expect(plain.status, `${where}: ${plain.text.slice(0, 200)}`).toBeLessThan(500);
      } else {
        expect(plain.status, where).toBe(role === 'none' ? 401 : 403);
        if (route.method !== 'HEAD')
          expect(errorCodeOf(plain), where).toBe(
            role === 'none' ? 'LARDER_ERR_UNAUTHORIZED' : 'LARDER_ERR_FORBIDDEN',
          );
      }
      for (const path of variantsOf(sample.path)) {
        // A HEAD request Node refuses gets an error body its client cannot read (HEAD has none).
        if (route.method === 'HEAD' && !path.startsWith('/')) continue;
        const answer = await send(base, route.method, sample, path, role);
        count++;
        const at = `${key} as ${role}, ${path}: ${answer.status} ${answer.text.slice(0, 200)}`;
        expect(answer.status, at).toBeLessThan(500);
        if (!path.startsWith('/')) {
          // Not a path at all: Node's HTTP parser refuses it before any route is looked up.
          expect([answer.status, errorCodeOf(answer)], at).toEqual([400, 'LARDER_ERR_BAD_REQUEST']);
          continue;
        }
        if (answer.status === 404) {
          // A matched route may answer 404 itself (an unknown stream), to a caller it let in.
          if (may && errorCodeOf(answer) !== 'LARDER_ERR_NOT_FOUND') continue;
          if (route.method !== 'HEAD') {
            expect(errorCodeOf(answer), at).toBe('LARDER_ERR_NOT_FOUND');
            const seen = notFoundBodies.get(path);
            if (seen === undefined) notFoundBodies.set(path, answer.text);
            else expect(answer.text, `${at}: the same 404 to every role`).toBe(seen);
          }
          continue;
        }
        if (may) expect([401, 403], at).not.toContain(answer.status);
        else expect(answer.status, at).toBe(plain.status);
      }
    }
    return count;
  }
}
