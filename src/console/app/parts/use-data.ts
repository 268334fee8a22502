import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
  /** Loads again now (after an action changed what the page shows). */
  reload(): void;
}

/**
 * Loads `load()` whenever `key` changes, and again every `everyMs` while the page is open and
 * visible (null: once). A slow answer never overwrites a newer one.
 */
export function useData<T>(key: string, load: () => Promise<T>, everyMs: number | null = null): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [nonce, setNonce] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const seq = useRef(0);

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const run = async (): Promise<void> => {
      const mine = ++seq.current;
      setLoading(true);
      try {
        const value = await loadRef.current();
        if (!stopped && mine === seq.current) {
          setData(value);
          setError(undefined);
        }
      } catch (err) {
        if (!stopped && mine === seq.current) setError(err as Error);
      } finally {
        if (!stopped && mine === seq.current) setLoading(false);
        if (!stopped && everyMs !== null) timer = window.setTimeout(() => void tick(), everyMs);
      }
    };
    const tick = async (): Promise<void> => {
      if (document.visibilityState === 'hidden') {
        timer = window.setTimeout(() => void tick(), everyMs ?? 1000);
        return;
      }
      await run();
    };
    void run();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [key, everyMs, nonce]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { data, error, loading, reload };
}
