/** Reads something now and every `intervalMs` while the view is shown; `refresh()` reads again at once. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | undefined;
  error: string | undefined;
  refresh: () => void;
}

export function usePoll<T>(read: () => Promise<T>, intervalMs: number): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const readRef = useRef(read);
  readRef.current = read;
  const alive = useRef(true);
  const refresh = useCallback(() => {
    readRef.current().then(
      (v) => {
        if (!alive.current) return;
        setData(v);
        setError(undefined);
      },
      (err: unknown) => {
        if (alive.current) setError(describeError(err));
      },
    );
  }, []);
  useEffect(() => {
    alive.current = true;
    refresh();
    const timer = intervalMs > 0 ? setInterval(refresh, intervalMs) : undefined;
    return () => {
      alive.current = false;
      if (timer !== undefined) clearInterval(timer);
    };
  }, [refresh, intervalMs]);
  return { data, error, refresh };
}

/** `CB_ERR_…: message` for a crossbus error, the message otherwise. */
export function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return typeof e?.code === 'string' ? `${e.code}: ${message}` : message;
}

export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}
