import type { Worker } from 'node:worker_threads';
import { LarderError } from '../../errors.ts';
import { startTsWorker } from '../../threads/ts-worker.ts';
import type { EnrichmentHandler, HandlerCall } from './handler.ts';
import type { ModuleThreadReply, ModuleThreadRequest } from './module-thread.ts';

/** How long a thread may take to answer `abort` before it is taken for stuck and replaced. */
const ABORT_ANSWER_MS = 1_000;

interface Pending {
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: LarderError) => void;
  readonly timer: NodeJS.Timeout;
  readonly thread: PoolThread;
}

interface PoolThread {
  readonly worker: Worker;
  /** Calls in flight on it. */
  readonly calls: Set<number>;
  /** Aborts sent and not answered yet: the thread may be stuck, so it gets no new calls. */
  unanswered: number;
  /** Set when an `abort` went unanswered: the thread is being replaced. */
  stuck: boolean;
}

/**
 * The worker threads that run `module` handlers, shared by every module enricher of a process.
 * Threads start on first use, up to `size`; each call goes to the thread with the fewest calls in
 * flight (a thread runs many at once: handlers are async).
 *
 * A call that passes its timeout fails with `LARDER_ERR_ENRICH_TIMEOUT` and its handler's
 * `ctx.signal` is aborted. A thread that does not even answer the abort (its event loop is stuck
 * in a busy loop) is terminated; a thread that dies fails its calls in flight with
 * `LARDER_ERR_ENRICH_CRASHED`. Either way the worker retries them, and a new thread takes the
 * next calls.
 */
export class ModulePool {
  readonly #size: number;
  readonly #threads: PoolThread[] = [];
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  constructor(options: { readonly size: number }) {
    this.#size = Math.max(1, options.size);
  }

  /** The handler of one module, on this pool. */
  handler(modulePath: string): EnrichmentHandler {
    return {
      call: (call) => this.call(modulePath, call),
      close: async () => undefined, // the pool is closed by its owner, once
    };
  }

  call(modulePath: string, call: HandlerCall): Promise<unknown> {
    if (this.#closed)
      return Promise.reject(new LarderError('LARDER_ERR_ENRICH_CRASHED', 'the module pool is closed'));
    const thread = this.#pick();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#timedOut(id, call), call.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer, thread });
      thread.calls.add(id);
      thread.worker.postMessage({
        type: 'call',
        id,
        module: modulePath,
        input: call.input,
        ctx: {
          enricher: call.enricher,
          invocationId: call.invocationId,
          attempt: call.attempt,
          timeoutMs: call.timeoutMs,
        },
      } satisfies ModuleThreadRequest);
    });
  }

  /**
   * Starts every thread now and has each import `modules`, so the first invocations do not wait
   * for a thread to boot (about a second: each thread loads the TypeScript loader).
   */
  warm(modules: readonly string[]): void {
    while (!this.#closed && this.#threads.filter((t) => !t.stuck).length < this.#size) this.#spawn();
    for (const thread of this.#threads) {
      for (const module of modules)
        thread.worker.postMessage({ type: 'load', module } satisfies ModuleThreadRequest);
    }
  }

  /** Threads running now (for tests and metrics). */
  get threads(): number {
    return this.#threads.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const threads = this.#threads.splice(0);
    for (const thread of threads) this.#failCalls(thread, 'the module pool closed');
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  #pick(): PoolThread {
    const healthy = this.#threads.filter((t) => !t.stuck && t.unanswered === 0);
    const idle = healthy.find((t) => t.calls.size === 0);
    if (idle !== undefined) return idle;
    if (this.#threads.filter((t) => !t.stuck).length < this.#size) return this.#spawn();
    const candidates = healthy.length > 0 ? healthy : this.#threads.filter((t) => !t.stuck);
    return candidates.reduce((a, b) => (b.calls.size < a.calls.size ? b : a), candidates[0] ?? this.#spawn());
  }

  #spawn(): PoolThread {
    const worker = startTsWorker(new URL('./module-thread.ts', import.meta.url));
    const thread: PoolThread = { worker, calls: new Set(), unanswered: 0, stuck: false };
    this.#threads.push(thread);
    worker.on('message', (reply: ModuleThreadReply) => {
      if (reply.type === 'aborted') return;
      const pending = this.#settle(reply.id);
      if (pending === undefined) return;
      if (reply.type === 'result') pending.resolve(reply.result);
      else pending.reject(new LarderError('LARDER_ERR_ENRICH_HANDLER', reply.message));
    });
    const lost = (why: string): void => {
      const index = this.#threads.indexOf(thread);
      if (index !== -1) this.#threads.splice(index, 1);
      this.#failCalls(thread, `the handler thread died: ${why}`);
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    // An idle pool must not keep the process alive.
    worker.unref();
    return thread;
  }

  #timedOut(id: number, call: HandlerCall): void {
    const pending = this.#settle(id);
    if (pending === undefined) return;
    pending.reject(
      new LarderError(
        'LARDER_ERR_ENRICH_TIMEOUT',
        `${call.enricher}: the handler did not answer within ${call.timeoutMs} ms`,
      ),
    );
    const { thread } = pending;
    let answered = false;
    thread.unanswered++;
    const onReply = (reply: ModuleThreadReply): void => {
      if (reply.type !== 'aborted' || reply.id !== id || answered) return;
      answered = true;
      thread.unanswered--;
    };
    thread.worker.on('message', onReply);
    thread.worker.postMessage({ type: 'abort', id } satisfies ModuleThreadRequest);
    setTimeout(() => {
      thread.worker.off('message', onReply);
      if (answered || this.#closed) return;
      // Its event loop is stuck: nothing it runs can finish. Replace it.
      thread.stuck = true;
      void thread.worker.terminate();
    }, ABORT_ANSWER_MS).unref();
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.thread.calls.delete(id);
    return pending;
  }

  #failCalls(thread: PoolThread, why: string): void {
    for (const id of [...thread.calls]) {
      this.#settle(id)?.reject(new LarderError('LARDER_ERR_ENRICH_CRASHED', why));
    }
  }
}
