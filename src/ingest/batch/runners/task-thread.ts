import { parentPort, threadId } from 'node:worker_threads';
import { isLarderError } from '../../../errors.ts';
import type { StoreConfig } from '../../../config/store-section.ts';
import { LmdbStore } from '../../../store/lmdb/lmdb-store.ts';
import type { OnlineStore } from '../../../store/online-store.ts';
import { storeFromConfig } from '../../../store/store-from-config.ts';
import type { S3Options } from '../sources/object-source.ts';
import { ObjectSources } from '../sources/object-sources.ts';
import { runTask, type TaskPayload } from '../task-runner.ts';

/**
 * The entry of one pool thread. It opens the configured store itself (LMDB environments are
 * shared across threads of a process; DynamoDB gets a client per thread), runs one task at a
 * time, and reports progress and the outcome by message. Messages in: `init`, `run`, `abort`,
 * `close`; out: `ready`, `progress`, `done`, `error`.
 */
export type ThreadRequest =
  | {
      readonly type: 'init';
      readonly dataDir: string;
      readonly store: StoreConfig | undefined;
      readonly s3: S3Options;
      readonly sync: boolean;
    }
  | { readonly type: 'run'; readonly id: number; readonly payload: TaskPayload; readonly batchRows?: number }
  | { readonly type: 'abort'; readonly id: number; readonly reason: string }
  | { readonly type: 'close' };

export type ThreadReply =
  | { readonly type: 'ready'; readonly threadId: number }
  | { readonly type: 'progress'; readonly id: number; readonly output: unknown }
  | { readonly type: 'done'; readonly id: number; readonly result: unknown }
  | { readonly type: 'error'; readonly id: number; readonly code: string; readonly message: string };

if (parentPort === null) throw new Error('task-thread.ts must run as a worker thread');
const port = parentPort;

let store: OnlineStore | undefined;
let sources = new ObjectSources();
const running = new Map<number, AbortController>();
const post = (reply: ThreadReply): void => port.postMessage(reply);

port.on('message', (message: ThreadRequest) => {
  void handle(message);
});

async function handle(message: ThreadRequest): Promise<void> {
  switch (message.type) {
    case 'init': {
      store =
        message.store === undefined
          ? new LmdbStore(message.dataDir, { env: { sync: message.sync } })
          : storeFromConfig(message.store, { dataDir: message.dataDir, sync: message.sync });
      await store.open();
      sources = new ObjectSources(message.s3);
      post({ type: 'ready', threadId });
      return;
    }
    case 'run': {
      const controller = new AbortController();
      running.set(message.id, controller);
      try {
        if (store === undefined) throw new Error('thread not initialised');
        const result = await runTask(message.payload, {
          store,
          sources,
          signal: controller.signal,
          ...(message.batchRows === undefined ? {} : { batchRows: message.batchRows }),
          onProgress: (output) => post({ type: 'progress', id: message.id, output }),
        });
        post({ type: 'done', id: message.id, result });
      } catch (err) {
        post({
          type: 'error',
          id: message.id,
          code: isLarderError(err) ? err.code : 'LARDER_ERR_INTERNAL',
          message: err instanceof Error ? err.message : String(err),
        });
      } finally {
        running.delete(message.id);
      }
      return;
    }
    case 'abort':
      running.get(message.id)?.abort(new Error(message.reason));
      return;
    case 'close':
      for (const controller of running.values()) controller.abort(new Error('pool closing'));
      await store?.close();
      port.close();
      return;
  }
}
