import { parentPort } from 'node:worker_threads';
import { applyWrites } from './lmdb-apply.ts';
import { openLmdbEnv } from './lmdb-env.ts';
import type { LmdbEnv, LmdbEnvOptions } from './lmdb-env.ts';
import type { StoreWrite } from './online-store.ts';

/**
 * The entry of the LMDB write thread (see `lmdb-write-thread.ts`). It opens the same environment
 * (lmdb-js shares one environment between the threads of a process), applies each batch in one
 * transaction, waits until it is flushed, and answers. Messages in: `init`, `write`, `close`; out:
 * `ready`, `done`, `failed`, `closed`.
 */
export type WriteThreadRequest =
  | { readonly type: 'init'; readonly dataDir: string; readonly options: LmdbEnvOptions }
  | {
      readonly type: 'write';
      readonly id: number;
      readonly writes: readonly StoreWrite[];
      readonly now: number;
    }
  | { readonly type: 'close' };

export type WriteThreadReply =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'failed'; readonly id: number; readonly message: string }
  | { readonly type: 'closed' };

if (parentPort === null) throw new Error('lmdb-write-thread-main.ts must run as a worker thread');
const port = parentPort;
const post = (reply: WriteThreadReply): void => port.postMessage(reply);
let env: LmdbEnv | undefined;

port.on('message', (message: WriteThreadRequest) => {
  switch (message.type) {
    case 'init':
      env = openLmdbEnv(message.dataDir, message.options);
      post({ type: 'ready' });
      return;
    case 'write':
      void write(message.id, message.writes, message.now);
      return;
    case 'close':
      void (env?.close() ?? Promise.resolve()).then(() => {
        post({ type: 'closed' });
        port.close();
      });
      return;
  }
});

async function write(id: number, writes: readonly StoreWrite[], now: number): Promise<void> {
  try {
    const opened = env;
    if (opened === undefined) throw new Error('the write thread was not initialised');
    // Batches that arrive in the same event turn share one transaction (lmdb-js's event-turn
    // batching), so a busy thread commits few times.
    await opened.root.transaction(() => applyWrites(opened, writes, now));
    await opened.flushed();
    post({ type: 'done', id });
  } catch (err) {
    post({ type: 'failed', id, message: err instanceof Error ? err.message : String(err) });
  }
}
