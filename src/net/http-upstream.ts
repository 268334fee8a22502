import { Agent } from 'undici';

/**
 * One HTTP call to an upstream service (an on-demand feature source, an enrichment handler) over a
 * shared keep-alive pool (undici `Agent`: one pool
 * of persistent connections per origin). The whole call (connect, headers, body) is bounded by
 * `timeoutMs`; a hung upstream is aborted, never waited on.
 */
export type UpstreamOutcome = 'ok' | 'not_found' | 'http_error' | 'timeout' | 'network_error' | 'bad_body';

export interface UpstreamResult {
  readonly outcome: UpstreamOutcome;
  /** The parsed JSON body when `outcome` is `ok`. */
  readonly body?: unknown;
  readonly status?: number;
}

/** Upstream answers larger than this are refused (an answer is a feature value, not a payload). */
export const MAX_UPSTREAM_BODY_BYTES = 1024 * 1024;

export interface HttpUpstreamOptions {
  /** Connections kept per upstream origin. Default 32. */
  readonly connectionsPerOrigin?: number;
  /** How long an idle connection is kept open. Default 30 s. */
  readonly keepAliveMs?: number;
}

export class HttpUpstream {
  readonly #agent: Agent;

  constructor(options: HttpUpstreamOptions = {}) {
    this.#agent = new Agent({
      connections: options.connectionsPerOrigin ?? 32,
      keepAliveTimeout: options.keepAliveMs ?? 30_000,
      keepAliveMaxTimeout: 10 * 60_000,
      pipelining: 1,
    });
  }

  async call(
    url: URL,
    method: 'GET' | 'POST',
    body: string | undefined,
    timeoutMs: number,
  ): Promise<UpstreamResult> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await this.#agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers:
          body === undefined
            ? { accept: 'application/json' }
            : { accept: 'application/json', 'content-type': 'application/json' },
        body: body ?? null,
        signal: abort.signal,
      });
      const status = response.statusCode;
      if (status < 200 || status >= 300) {
        // Drain so the connection goes back to the pool instead of being torn down.
        await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
        return { outcome: status === 404 ? 'not_found' : 'http_error', status };
      }
      let size = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_UPSTREAM_BODY_BYTES) {
          response.body.destroy();
          return { outcome: 'bad_body', status };
        }
        chunks.push(chunk);
      }
      try {
        return { outcome: 'ok', status, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
      } catch {
        return { outcome: 'bad_body', status };
      }
    } catch {
      return { outcome: abort.signal.aborted ? 'timeout' : 'network_error' };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }
}
