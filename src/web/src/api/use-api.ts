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
 */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiFailure; loading: boolean }>({ loading: true });
  const [nonce, setNonce] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ctl.signal).then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (err) => {
        if (mine !== seq.current || ctl.signal.aborted) return;
        const failure = err instanceof ApiFailure ? err : new ApiFailure(0, 'client_error', String((err as Error)?.message ?? err));
        setState((s) => ({ data: s.data, error: failure, loading: false }));
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
