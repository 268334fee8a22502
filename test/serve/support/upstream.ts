import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake upstream answers the next requests. */
export type UpstreamMode = 'ok' | 'slow' | 'fail' | 'hang' | 'bad_type';

export interface FakeUpstream {
  readonly base: string;
  mode: UpstreamMode;
  /** Delay of `slow` answers, ms. */
  slowMs: number;
  /** Every request path received, in order. */
  readonly requests: { method: string; url: string; body: string }[];
  close(): Promise<void>;
}

/**
 * A small real HTTP server standing in for an on-demand upstream (a user service, say).
 * `GET /blocked/<id>` answers `[id*10, id*10+1]`; `GET /blocked?ids=1,2` answers `{"1": [...], ...}`;
 * `POST /blocked` answers by the `id`/`ids` of the JSON body; `/views?ids=..` answers `{id: id*100}`.
 * The mode makes it slow, fail or hang.
 */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  const hanging = new Set<http.ServerResponse>();
  const state: FakeUpstream = {
    base: '',
    mode: 'ok',
    slowMs: 500,
    requests: [],
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  let views = false;
  const valueFor = (id: string): unknown =>
    state.mode === 'bad_type'
      ? 'not-a-list'
      : views
        ? Number(id) * 100
        : [Number(id) * 10, Number(id) * 10 + 1];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      state.requests.push({ method: req.method ?? '', url: req.url ?? '', body });
      const url = new URL(req.url ?? '/', 'http://x');
      // `/views?ids=..` answers an int per id (a view count); everything else a list of ints.
      views = url.pathname.startsWith('/views');
      let answer: unknown;
      if (req.method === 'POST') {
        const parsed = JSON.parse(body || '{}') as { id?: unknown; ids?: unknown[] };
        answer =
          parsed.ids !== undefined
            ? Object.fromEntries(parsed.ids.map((id) => [String(id), valueFor(String(id))]))
            : valueFor(String(parsed.id));
      } else if (url.searchParams.has('ids')) {
        const ids = (url.searchParams.get('ids') ?? '').split(',');
        answer = Object.fromEntries(ids.filter((id) => id !== '404').map((id) => [id, valueFor(id)]));
      } else {
        const id = url.pathname.split('/').pop() ?? '';
        if (id === '404') {
          res.writeHead(404).end();
          return;
        }
        answer = valueFor(id);
      }
      const send = (): void => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      };
      switch (state.mode) {
        case 'fail':
          res.writeHead(500).end('boom');
          return;
        case 'hang':
          hanging.add(res);
          res.on('close', () => hanging.delete(res));
          return;
        case 'slow': {
          const timer = setTimeout(send, state.slowMs);
          res.on('close', () => clearTimeout(timer));
          return;
        }
        default:
          send();
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  (state as { base: string }).base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
