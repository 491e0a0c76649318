export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small HTTP client for the real API: JSON in, JSON out, status kept. */
export function apiClient(baseUrl: string, defaultKey?: string) {
  return async function api<T = any>(
    method: string,
    path: string,
    opts: { key?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<ApiResponse<T>> {
    const key = opts.key === undefined ? defaultKey : opts.key;
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (metrics, docs): keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
}

export type Api = ReturnType<typeof apiClient>;
