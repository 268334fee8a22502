import { LarderError } from '../../errors.ts';

/**
 * How a failed LMDB commit (a full disk, an I/O error, a full map) reaches Larder. lmdb-js rejects
 * the writes of a failed commit with a "Commit failed" error whose `commitError` promise carries
 * the cause, and that promise is rejected too: left unhandled, either would crash the process.
 */

/**
 * Awaits an LMDB write (a transaction, a put, a flush) of the environment at `path`. A failed
 * commit (a full disk, an I/O error, a full map) rejects with lmdb-js's "Commit failed" error,
 * whose `commitError` promise carries the cause and, left unhandled, would crash the process.
 * Every write goes through here: the cause is taken from it, and the failure rethrown as
 * `LARDER_ERR_STORE_WRITE_FAILED`, naming it.
 */
export async function committed<T>(path: string, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    throw new LarderError(
      'LARDER_ERR_STORE_WRITE_FAILED',
      `the LMDB store at ${path} cannot write: ${await commitCause(err)}`,
      { cause: err, details: { path } },
    );
  }
}

/** The cause of a failed LMDB write, in words; handles the `commitError` promise it may carry. */
async function commitCause(err: unknown): Promise<string> {
  const commitError = (err as { commitError?: unknown } | null)?.commitError;
  let cause: unknown = err;
  if (commitError instanceof Promise) {
    // Rejected by lmdb-js right after the write's own rejection; bounded in case it never is.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<unknown>((resolve) => (timer = setTimeout(() => resolve(err), 1_000)));
    cause = await Promise.race([
      commitError.then(
        () => err,
        (reason: unknown) => reason,
      ),
      late,
    ]);
    clearTimeout(timer);
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as { code?: unknown } | null)?.code;
  // lmdb-js reports errno values (28 ENOSPC, 5 EIO) and MDB codes (-30792 MDB_MAP_FULL).
  const full = code === 28 || code === 5 || code === -30792 || /no space|map.?full/i.test(message);
  return full ? `${message} (is the disk full?)` : message;
}

let orphansHandled = false;

/**
 * lmdb-js (3.5, with `eventTurnBatching`) also rejects an internal promise of its own event-turn
 * batch when that batch's commit fails, and nothing ever handles it: on a full disk the process
 * would crash on the first failed write. The writers of the batch learn of the failure through
 * their own promises (`committed`); this listener takes only lmdb-js's orphaned copy of it. Every
 * other unhandled rejection still ends the process as Node's default would, unless something else
 * (a test runner) listens too. Installed once per process, by whatever opens an environment.
 */
export function handleOrphanedCommitFailures(): void {
  if (orphansHandled) return;
  orphansHandled = true;
  process.on('unhandledRejection', (reason) => {
    if (isCommitFailure(reason)) {
      reason.commitError.catch(() => undefined);
      return;
    }
    if (process.listenerCount('unhandledRejection') === 1) throw reason;
  });
}

function isCommitFailure(reason: unknown): reason is Error & { commitError: Promise<unknown> } {
  return (
    reason instanceof Error &&
    reason.message.startsWith('Commit failed') &&
    (reason as { commitError?: unknown }).commitError instanceof Promise
  );
}
