import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from './client';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiFailure | undefined;
  loading: boolean;
  /** Fetches again, keeping the current data on screen meanwhile. */
  reload(): void;
}

/**
 * Loads from the API whenever `deps` change (or `reload` is called); an answer that arrives
 * after a newer request started is dropped, so fast typing or clicking never shows stale data.
 *
 * `refresh` (a live tick) asks for fresh data without cancelling: a load under way finishes and
 * one more follows it. Cancelling instead would starve a page whose answers take longer than
 * the refresh rate (a loaded service): every tick would abort the request about to answer.
 */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], refresh?: unknown): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiFailure; loading: boolean }>({ loading: true });
  const [nonce, setNonce] = useState(0);
  const seq = useRef(0);
  const inFlight = useRef(false);
  const again = useRef(false);
  useEffect(() => {
    const mine = ++seq.current;
    const ctl = new AbortController();
    inFlight.current = true;
    again.current = false;
    setState((s) => ({ ...s, loading: true }));
    const settled = () => {
      inFlight.current = false;
      if (again.current) {
        again.current = false;
        setNonce((n) => n + 1);
      }
    };
    load(ctl.signal).then(
      (data) => {
        if (mine !== seq.current) return;
        setState({ data, loading: false });
        settled();
      },
      (err) => {
        if (mine !== seq.current || ctl.signal.aborted) return;
        const failure = err instanceof ApiFailure ? err : new ApiFailure(0, 'client_error', String((err as Error)?.message ?? err));
        setState((s) => ({ data: s.data, error: failure, loading: false }));
        settled();
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, nonce]);
  const mounted = useRef(false);
  useEffect(() => {
    if (!mounted.current) {
      mounted.current = true;
      return;
    }
    if (inFlight.current) again.current = true;
    else setNonce((n) => n + 1);
  }, [refresh]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
