import type { Worker } from 'node:worker_threads';
import { LarderError } from '../errors.ts';
import { startTsWorker } from '../runtime/ts-worker.ts';
import type { LmdbEnvOptions } from './lmdb-env.ts';
import type { WriteThreadReply, WriteThreadRequest } from './lmdb-write-thread-main.ts';
import type { StoreWrite } from './online-store.ts';

interface Pending {
  readonly resolve: () => void;
  readonly reject: (err: LarderError) => void;
}

/**
 * Runs the LMDB store's writes on a thread of their own. An append's cost is mostly B-tree work
 * (page copies on insert), which in lmdb-js runs on the thread that holds the write transaction;
 * on the event loop it competes with decoding, consuming and serving. Here the event loop only
 * posts each validated batch (a structured clone) and the thread applies it, in the same order,
 * with the same code (`applyWrites`), and answers once it is flushed.
 *
 * A thread that dies fails the batches it held (`LARDER_ERR_STORE_UNAVAILABLE`; nothing was
 * acknowledged for them, so their callers retry) and is started again on the next write.
 */
export class LmdbWriteThread {
  readonly #dataDir: string;
  readonly #options: LmdbEnvOptions;
  readonly #pending = new Map<number, Pending>();
  readonly #inflight = new Set<Promise<void>>();
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  #nextId = 1;
  #closed = false;

  constructor(dataDir: string, options: LmdbEnvOptions) {
    this.#dataDir = dataDir;
    this.#options = options;
  }

  /** Starts the thread (a write starts it too); resolves once it has the environment open. */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    this.#ready ??= this.#spawn();
    return this.#ready;
  }

  async write(writes: readonly StoreWrite[], now: number): Promise<void> {
    await this.start();
    const worker = this.#worker;
    if (worker === undefined) throw closedError();
    const id = this.#nextId++;
    const done = new Promise<void>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#inflight.add(done);
    const forget = (): void => void this.#inflight.delete(done);
    done.then(forget, forget);
    this.#send(worker, { type: 'write', id, writes, now });
    return done;
  }

  /** Waits for the batches already posted, then stops the thread. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const worker = this.#worker;
    if (worker === undefined) return;
    await Promise.allSettled([...this.#inflight]);
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.#send(worker, { type: 'close' });
    // Bounded: a thread that does not answer is stopped.
    const timer = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }

  #spawn(): Promise<void> {
    const worker = startTsWorker(new URL('./lmdb-write-thread-main.ts', import.meta.url));
    this.#worker = worker;
    // The thread must never keep the process alive on its own.
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (reply: WriteThreadReply) => {
        if (reply.type === 'ready') resolve();
        else if (reply.type === 'done') this.#settle(reply.id, undefined);
        else if (reply.type === 'failed')
          this.#settle(
            reply.id,
            new LarderError('LARDER_ERR_STORE_UNAVAILABLE', `LMDB write failed: ${reply.message}`),
          );
      });
      worker.once('error', (err) => {
        reject(unavailable(err));
        this.#failAll(unavailable(err));
      });
      worker.once('exit', (code) => {
        const err = unavailable(new Error(`the LMDB write thread exited with code ${code}`));
        reject(err);
        this.#failAll(err);
        if (this.#worker === worker) {
          this.#worker = undefined;
          this.#ready = undefined;
        }
      });
    });
    ready.catch(() => undefined);
    this.#send(worker, { type: 'init', dataDir: this.#dataDir, options: this.#options });
    return ready;
  }

  #send(worker: Worker, message: WriteThreadRequest): void {
    worker.postMessage(message);
  }

  #settle(id: number, err: LarderError | undefined): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (err === undefined) pending.resolve();
    else pending.reject(err);
  }

  #failAll(err: LarderError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }
}

function unavailable(cause: unknown): LarderError {
  return new LarderError('LARDER_ERR_STORE_UNAVAILABLE', 'the LMDB write thread is not running', { cause });
}

function closedError(): LarderError {
  return new LarderError('LARDER_ERR_STORE_CLOSED', 'the LMDB store was closed');
}
