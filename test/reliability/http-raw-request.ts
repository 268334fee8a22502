import http from 'node:http';

/** What a server answered, and how long it took. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  readonly ms: number;
}

export interface RawRequest {
  readonly method: string;
  /** Sent exactly as given: no normalisation of `%xx`, `//`, dot segments or case. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** The answer must come within this many ms, else the promise rejects. Default 10 s. */
  readonly timeoutMs?: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/**
 * One HTTP request over a real socket with the path sent byte for byte. `fetch` would resolve dot
 * segments and re-encode the path first, which hides exactly what the tests want to send.
 * Connections are kept alive; a request that finds its kept connection closed by the server (it
 * closes after refusing a malformed request) is sent once more on a new one, as Node advises.
 */
export async function rawRequest(base: string, request: RawRequest): Promise<RawAnswer> {
  try {
    return await once(base, request, agent);
  } catch (err) {
    if ((err as { reused?: boolean }).reused !== true) throw err;
    return once(base, request, false);
  }
}

function once(base: string, request: RawRequest, via: http.Agent | false): Promise<RawAnswer> {
  const url = new URL(base);
  const started = performance.now();
  const timeoutMs = request.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent: via,
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        headers: request.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${request.method} ${request.path.slice(0, 80)}: no answer in ${timeoutMs} ms`)),
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const failed = new Error(`${request.method} ${request.path.slice(0, 80)}: ${err.message}`, {
        cause: err,
      });
      const closedUnderUs = err.code === 'ECONNRESET' || err.message === 'socket hang up';
      reject(Object.assign(failed, { reused: req.reusedSocket && closedUnderUs }));
    });
    req.end(request.body);
  });
}

/** The JSON body of an answer, or undefined when it is not JSON. */
export function jsonOf(answer: RawAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    return undefined;
  }
}

/** The `LARDER_ERR_*` code of an error answer: REST `{code}` or GraphQL `errors[0].extensions.code`. */
export function errorCodeOf(answer: RawAnswer): string | undefined {
  const body = jsonOf(answer) as
    { code?: unknown; errors?: { extensions?: { code?: unknown } }[] } | null | undefined;
  const code = body?.code ?? body?.errors?.[0]?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}
