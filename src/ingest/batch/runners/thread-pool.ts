import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../../../threads/ts-worker.ts';
import { ERROR_CATALOG, LarderError, type ErrorCode } from '../../../errors.ts';
import type { StoreConfig } from '../../../config/store-section.ts';
import type { S3Options } from '../sources/object-source.ts';
import type { TaskOutput, TaskPayload, TaskResult } from '../task-runner.ts';
import type { ThreadReply, ThreadRequest } from './task-thread.ts';

export interface ThreadPoolOptions {
  readonly size: number;
  readonly dataDir: string;
  /** The store tasks write to (the config's `store:`). Default: LMDB in `dataDir`. */
  readonly store?: StoreConfig;
  readonly s3?: S3Options;
  /** Durable writes (default true); false only for throwaway benchmarks. */
  readonly sync?: boolean;
  readonly batchRows?: number;
}

interface Pending {
  readonly resolve: (result: TaskResult) => void;
  readonly reject: (err: LarderError) => void;
  readonly onProgress: ((output: TaskOutput) => void) | undefined;
}

interface PoolThread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  busy: number | undefined;
}

/**
 * A fixed pool of worker threads running batch tasks, one task per thread at a time. Threads are
 * started on first use. A thread that dies fails its task (the runner retries it) and is replaced.
 */
export class ThreadPool {
  readonly #threads: PoolThread[] = [];
  readonly #queue: { payload: TaskPayload; id: number }[] = [];
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  readonly #options: ThreadPoolOptions;
  constructor(options: ThreadPoolOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#options.size;
  }

  /** Runs a task on the next free thread. `abort(id)` with the returned id stops it. */
  run(
    payload: TaskPayload,
    onProgress?: (output: TaskOutput) => void,
  ): { id: number; result: Promise<TaskResult> } {
    if (this.#closed) throw new LarderError('LARDER_ERR_INTERNAL', 'the thread pool is closed');
    const id = this.#nextId++;
    const result = new Promise<TaskResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
    });
    this.#queue.push({ payload, id });
    this.#pump();
    return { id, result };
  }

  /** Stops a queued or running task; its promise rejects with `reason`. */
  abort(id: number, reason: string): void {
    const queued = this.#queue.findIndex((q) => q.id === id);
    if (queued !== -1) {
      this.#queue.splice(queued, 1);
      this.#settle(id, undefined, new LarderError('LARDER_ERR_BATCH_CANCELLED', reason));
      return;
    }
    const thread = this.#threads.find((t) => t.busy === id);
    thread?.worker.postMessage({ type: 'abort', id, reason } satisfies ThreadRequest);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const { id } of this.#queue.splice(0)) {
      this.#settle(id, undefined, new LarderError('LARDER_ERR_BATCH_CANCELLED', 'the pool closed'));
    }
    await Promise.all(
      this.#threads.map(async (thread) => {
        const exited = new Promise((resolve) => thread.worker.once('exit', resolve));
        thread.worker.postMessage({ type: 'close' } satisfies ThreadRequest);
        const timer = setTimeout(() => void thread.worker.terminate(), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.#threads.length = 0;
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let thread = this.#threads.find((t) => t.busy === undefined);
      if (thread === undefined && this.#threads.length < this.#options.size) thread = this.#spawn();
      if (thread === undefined) return;
      const next = this.#queue.shift();
      if (next === undefined) return;
      thread.busy = next.id;
      const target = thread;
      target.ready.then(
        () =>
          target.worker.postMessage({
            type: 'run',
            id: next.id,
            payload: next.payload,
            ...(this.#options.batchRows === undefined ? {} : { batchRows: this.#options.batchRows }),
          } satisfies ThreadRequest),
        (err: Error) => this.#settle(next.id, undefined, new LarderError('LARDER_ERR_INTERNAL', err.message)),
      );
    }
  }

  #spawn(): PoolThread {
    const worker = startTsWorker(new URL('./task-thread.ts', import.meta.url));
    let markReady: () => void = () => undefined;
    let markFailed: (err: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    ready.catch(() => undefined);
    const thread: PoolThread = { worker, ready, busy: undefined };
    this.#threads.push(thread);
    worker.on('message', (reply: ThreadReply) => {
      switch (reply.type) {
        case 'ready':
          markReady();
          return;
        case 'progress':
          this.#pending.get(reply.id)?.onProgress?.(reply.output as TaskOutput);
          return;
        case 'done':
          thread.busy = undefined;
          this.#settle(reply.id, reply.result as TaskResult, undefined);
          this.#pump();
          return;
        case 'error':
          thread.busy = undefined;
          this.#settle(reply.id, undefined, new LarderError(asCode(reply.code), reply.message));
          this.#pump();
          return;
      }
    });
    const lost = (why: string): void => {
      markFailed(new Error(why));
      const index = this.#threads.indexOf(thread);
      if (index !== -1) this.#threads.splice(index, 1);
      if (thread.busy !== undefined) {
        this.#settle(
          thread.busy,
          undefined,
          new LarderError('LARDER_ERR_INTERNAL', `batch thread died: ${why}`),
        );
      }
      if (!this.#closed) this.#pump();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    worker.postMessage({
      type: 'init',
      dataDir: this.#options.dataDir,
      store: this.#options.store,
      s3: this.#options.s3 ?? {},
      sync: this.#options.sync !== false,
    } satisfies ThreadRequest);
    return thread;
  }

  #settle(id: number, result: TaskResult | undefined, error: LarderError | undefined): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (error !== undefined) pending.reject(error);
    else pending.resolve(result as TaskResult);
  }
}

function asCode(code: string): ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, code) ? (code as ErrorCode) : 'LARDER_ERR_INTERNAL';
}
