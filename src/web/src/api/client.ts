import createClient from 'openapi-fetch';
import type { paths } from './openapi';

/** A JSON response body of the API, by path, method and status: the generated types, never hand-copied. */
export type Json<P extends keyof paths, M extends keyof paths[P] = 'get', S extends number = 200> =
  paths[P][M] extends { responses: { [K in S]: { content: { 'application/json': infer T } } } } ? T : never;
/** The query parameters of a GET. */
export type Query<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } } ? NonNullable<Q> : never;

/** The API's one error shape (docs/api.md), as thrown by every call of the dashboard. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly parameter: string | null = null,
    readonly requestId: string | null = null,
  ) {
    super(message);
  }
}

async function failureOf(response: Response, body: unknown): Promise<ApiFailure> {
  const e = (body as { error?: { code?: string; message?: string; parameter?: string | null; request_id?: string } } | undefined)?.error;
  if (e?.code) return new ApiFailure(response.status, e.code, e.message ?? response.statusText, e.parameter ?? null, e.request_id ?? null);
  return new ApiFailure(response.status, 'http_error', `${response.status} ${response.statusText}`.trim());
}

export type ApiClient = ReturnType<typeof apiClient>;

/**
 * A typed client of the public API for one key. The key travels only in the Authorization
 * header, never in a URL. A 401 (key wrong or revoked since sign-in) ends the session.
 */
export function apiClient(key: string, onUnauthorized: (f: ApiFailure) => void) {
  const client = createClient<paths>({ baseUrl: '' });
  client.use({
    onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${key}`);
      return request;
    },
  });
  /** A refused response as an ApiFailure; a 401 (the key no longer valid) also ends the session. */
  async function refused(response: Response, body: unknown): Promise<ApiFailure> {
    const failure = await failureOf(response, body);
    if (failure.status === 401) onUnauthorized(failure);
    return failure;
  }
  /** The data of a call, or its ApiFailure thrown. */
  async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    let r: { data?: T; error?: unknown; response: Response };
    try {
      r = await call;
    } catch (err) {
      throw new ApiFailure(0, 'network_error', `the service did not answer (${(err as Error).message})`);
    }
    if (r.response.ok) return r.data as T;
    throw await refused(r.response, r.error);
  }
  return {
    GET: client.GET,
    POST: client.POST,
    PATCH: client.PATCH,
    ok,
    /** For the routes of plug-in modules that may not be in this build's generated types yet. */
    async raw(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
      let res: Response;
      try {
        res = await fetch(path, {
          method,
          signal,
          headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        throw new ApiFailure(0, 'network_error', `the service did not answer (${(err as Error).message})`);
      }
      const text = await res.text();
      const parsed: unknown = text ? JSON.parse(text) : null;
      if (res.ok) return parsed;
      throw await refused(res, parsed);
    },
    /**
     * A streaming request (Server-Sent Events) with the key in the header, as EventSource cannot
     * send one. The service closes a revoked key's stream; the reconnect's 401 ends the session.
     */
    async stream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
      const res = await fetch(path, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...headers }, signal, cache: 'no-store' });
      if (res.status === 401) await refused(res, await res.json().catch(() => null));
      return res;
    },
  };
}
