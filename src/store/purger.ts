import type { OnlineStore } from './online-store.ts';

/** The part of a logger the purger uses; a pino logger fits. */
export interface PurgerLogger {
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export interface PurgerOptions {
  /** Pause between the end of one purge and the start of the next, in ms. */
  readonly intervalMs: number;
  readonly logger?: PurgerLogger;
}

export interface Purger {
  /** Stops the timer and waits for a purge in progress to finish. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs `store.purgeExpired()` in the background every `intervalMs`. Runs never overlap (the next
 * one is scheduled after the previous finishes), the timer never keeps the process alive, and a
 * failing purge is logged and retried at the next tick rather than thrown: expired data is already
 * invisible to reads, so purging late is harmless.
 */
export function startPurger(
  store: Pick<OnlineStore, 'name' | 'purgeExpired'>,
  options: PurgerOptions,
): Purger {
  const logger: PurgerLogger = options.logger ?? {
    warn: (obj, msg) => console.warn(msg, obj),
  };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const tick = async (): Promise<void> => {
    try {
      const removed = await store.purgeExpired();
      if (removed > 0) logger.debug?.({ store: store.name, removed }, 'purged expired entries');
    } catch (err) {
      logger.warn({ store: store.name, err }, 'purging expired entries failed; will retry');
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = undefined;
        schedule();
      });
    }, options.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
