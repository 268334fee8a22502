import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandHandler } from '../../src/enrich/handlers/command-handler.ts';
import type { EnrichmentHandler, HandlerCall } from '../../src/enrich/handlers/handler.ts';
import { createHttpHandler } from '../../src/enrich/handlers/http-handler.ts';
import { ModulePool } from '../../src/enrich/handlers/module-pool.ts';
import { tempDir } from '../support/temp-dir.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));

function call(input: Record<string, unknown>, timeoutMs = 5_000, attempt = 1): HandlerCall {
  return { enricher: 'test', invocationId: randomUUID(), attempt, input, timeoutMs };
}

/** The code of the LarderError a call rejected with. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('the call succeeded');
}

describe('module handlers in a worker-thread pool', { timeout: 60_000 }, () => {
  const pool = new ModulePool({ size: 2 });
  const handler = pool.handler(path.join(FIXTURES, 'counter-handler.js'));
  afterAll(() => pool.close());

  it('calls the default export with the input and a context, keeping module state', async () => {
    const first = (await handler.call(call({ n: 21 }, 5_000, 2))) as Record<string, unknown>;
    expect(first).toMatchObject({ doubled: 42, attempt: 2 });
    expect(typeof first.invocationId).toBe('string');
    // Sequential calls go to the same idle thread, whose module kept its counter.
    const second = (await handler.call(call({ n: 1 }))) as Record<string, unknown>;
    expect(second.calls).toBe((first.calls as number) + 1);
  });

  it('runs calls at once and fails a throwing handler with its message', async () => {
    const results = await Promise.allSettled([
      handler.call(call({ n: 1 })),
      handler.call(call({ fail: 'bad input' })),
      handler.call(call({ n: 3 })),
    ]);
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { doubled: 2 } });
    expect(results[1]).toMatchObject({
      status: 'rejected',
      reason: { code: 'LARDER_ERR_ENRICH_HANDLER', message: 'asked to fail: bad input' },
    });
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { doubled: 6 } });
  });

  it('times out a handler that hangs, and keeps serving', async () => {
    expect(await failure(handler.call(call({ hang: true }, 300)))).toMatchObject({
      code: 'LARDER_ERR_ENRICH_TIMEOUT',
    });
    expect(await handler.call(call({ n: 5 }))).toMatchObject({ doubled: 10 });
  });

  it('replaces a thread whose event loop is stuck', async () => {
    const stuck = handler.call(call({ spin: 4_000 }, 300));
    const beside = handler.call(call({ n: 7 }, 10_000));
    expect(await failure(stuck)).toMatchObject({ code: 'LARDER_ERR_ENRICH_TIMEOUT' });
    // The call beside it either ran on the other thread or died with the stuck one.
    const outcome = await beside.then(
      (value) => value,
      (err: { code: string }) => err.code,
    );
    expect([expect.objectContaining({ doubled: 14 }), 'LARDER_ERR_ENRICH_CRASHED']).toContainEqual(outcome);
    expect(await handler.call(call({ n: 8 }))).toMatchObject({ doubled: 16 });
  });
});

describe('command handlers: one long-lived process speaking NDJSON', { timeout: 60_000 }, () => {
  const tmp = tempDir('larder-command-');
  const handlers: EnrichmentHandler[] = [];
  const command = (file: string): EnrichmentHandler => {
    const handler = createCommandHandler({ enricher: 'test', argv: [process.execPath, file], cwd: FIXTURES });
    handlers.push(handler);
    return handler;
  };
  afterAll(async () => {
    for (const handler of handlers) await handler.close();
    tmp.remove();
  });

  it('overlaps calls: answers arrive out of order and each finds its call', async () => {
    const handler = command('ndjson-handler.js');
    const results = (await Promise.all(
      [300, 200, 100, 0].map((delay, n) => handler.call(call({ n, delay }))),
    )) as { doubled: number; pid: number }[];
    expect(results.map((r) => r.doubled)).toEqual([0, 2, 4, 6]);
    expect(new Set(results.map((r) => r.pid)).size).toBe(1);
    expect(await failure(handler.call(call({ fail: 'nope' })))).toMatchObject({
      code: 'LARDER_ERR_ENRICH_HANDLER',
      message: 'test: cannot: nope',
    });
  });

  it('restarts a process that crashed mid-batch; its calls in flight fail as crashed', async () => {
    const handler = command('ndjson-handler.js');
    const before = (await handler.call(call({ n: 1 }))) as { pid: number };
    const marker = path.join(tmp.dir, `crash-${randomUUID()}`);
    const batch = await Promise.allSettled([
      handler.call(call({ n: 1, delay: 2_000 })),
      handler.call(call({ n: 2, delay: 2_000 })),
      handler.call(call({ crashOnce: marker })),
    ]);
    expect(batch.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok'))).toEqual([
      'LARDER_ERR_ENRICH_CRASHED',
      'LARDER_ERR_ENRICH_CRASHED',
      'LARDER_ERR_ENRICH_CRASHED',
    ]);
    // Retried, the same calls succeed on a new process.
    const after = (await Promise.all([
      handler.call(call({ n: 1 }, 5_000, 2)),
      handler.call(call({ crashOnce: marker, n: 3 }, 5_000, 2)),
    ])) as { doubled: number; pid: number }[];
    expect(after.map((r) => r.doubled)).toEqual([2, 6]);
    expect(after[0]?.pid).not.toBe(before.pid);
  });

  it('times out a call, and restarts a process that answers nothing at all', async () => {
    const slow = command('ndjson-handler.js');
    expect(await failure(slow.call(call({ hang: true }, 300)))).toMatchObject({
      code: 'LARDER_ERR_ENRICH_TIMEOUT',
    });
    const spinning = command('spin-handler.js');
    const { pid } = (await spinning.call(call({}))) as { pid: number };
    expect(await failure(spinning.call(call({ spin: true }, 300)))).toMatchObject({
      code: 'LARDER_ERR_ENRICH_TIMEOUT',
    });
    const next = (await spinning.call(call({}))) as { pid: number };
    expect(next.pid).not.toBe(pid);
  });
});

describe('http handlers: timeout and circuit breaker', { timeout: 30_000 }, () => {
  let server: Server;
  let base = '';
  const seen: unknown[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const input = JSON.parse(body) as { n?: number; status?: number; hang?: boolean };
        seen.push(input);
        if (input.hang) return; // never answers
        if (input.status !== undefined) return void res.writeHead(input.status).end('{}');
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ doubled: (input.n ?? 0) * 2 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('posts the input and answers the JSON body; a non-2xx answer or silence fails', async () => {
    const handler = createHttpHandler({ url: `${base}/predict`, breaker: { failures: 5, resetMs: 60_000 } });
    try {
      expect(await handler.call(call({ n: 4 }))).toEqual({ doubled: 8 });
      expect(seen.at(-1)).toEqual({ n: 4 });
      expect(await failure(handler.call(call({ status: 422 })))).toMatchObject({
        code: 'LARDER_ERR_ENRICH_HANDLER',
        message: expect.stringContaining('HTTP 422'),
      });
      expect(await failure(handler.call(call({ hang: true }, 200)))).toMatchObject({
        code: 'LARDER_ERR_ENRICH_TIMEOUT',
      });
    } finally {
      await handler.close();
    }
  });

  it('opens the breaker after consecutive server errors: no capacity, calls held back', async () => {
    let now = 0;
    const handler = createHttpHandler({
      url: `${base}/predict`,
      breaker: { failures: 2, resetMs: 1_000 },
      now: () => now,
    });
    try {
      expect(handler.capacity?.()).toBe(Number.POSITIVE_INFINITY);
      for (let i = 0; i < 2; i++) await failure(handler.call(call({ status: 503 })));
      expect(handler.capacity?.()).toBe(0);
      const requests = seen.length;
      expect(await failure(handler.call(call({ n: 1 })))).toMatchObject({
        code: 'LARDER_ERR_ENRICH_BREAKER_OPEN',
      });
      expect(seen.length).toBe(requests);
      now = 1_000; // the reset time passed: one probe may go
      expect(handler.capacity?.()).toBe(1);
      expect(await handler.call(call({ n: 2 }))).toEqual({ doubled: 4 });
      expect(handler.capacity?.()).toBe(Number.POSITIVE_INFINITY);
    } finally {
      await handler.close();
    }
  });
});
