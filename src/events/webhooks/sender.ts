import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { guardedLookup, hostOf, parseTarget, resolveAllowed, WebhookTargetError, type TargetPolicy } from './target.js';
import { parseRetryAfter } from './backoff.js';

/** How one attempt ended (the `outcome` label of dynamo_webhook_deliveries_total). */
export type Outcome = 'delivered' | 'gone' | 'http_error' | 'timeout' | 'network_error' | 'refused';

export interface Attempt {
  outcome: Outcome;
  statusCode: number | null;
  /** From a Retry-After header on a failed answer. */
  retryAfterMs?: number;
  latencyMs: number;
  /** A short reason for a failure, for the deliveries list; never the request or secret. */
  error?: string;
}

export interface SenderOptions {
  policy: TargetPolicy;
  timeoutMs: number;
}

/**
 * Sends one signed webhook request with the SSRF guard at connection time: the socket connects
 * only to an address the policy allows (guardedLookup), a literal address is judged before
 * connecting, and redirects are never followed (a 3xx is a failed attempt). Keep-alive agents
 * make a busy endpoint cost one connection, not one per event. Knows nothing of the API server.
 */
export class WebhookSender {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly opts: SenderOptions) {
    const lookup = guardedLookup(opts.policy) as unknown as http.AgentOptions['lookup'];
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4, lookup } as http.AgentOptions);
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 4, lookup } as https.AgentOptions);
  }

  async send(rawUrl: string, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Attempt> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = parseTarget(rawUrl, this.opts.policy);
      // Names are judged by the agent's lookup as the socket connects; a literal address never
      // goes through a lookup, so it is judged here.
      const host = hostOf(url);
      if (/^[\d.]+$|:/.test(host)) await resolveAllowed(host, this.opts.policy);
    } catch (err) {
      return { outcome: 'refused', statusCode: null, latencyMs: elapsed(), error: (err as Error).message };
    }
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const finish = (a: Omit<Attempt, 'latencyMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve({ ...a, latencyMs: elapsed() });
      };
      const isHttps = url.protocol === 'https:';
      const req = (isHttps ? https : http).request(url, {
        method: 'POST',
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Dynamo-Webhooks/1', ...headers },
      });
      const timer = setTimeout(() => {
        finish({ outcome: 'timeout', statusCode: null, error: `no complete answer within ${this.opts.timeoutMs / 1000} s` });
        req.destroy();
      }, this.opts.timeoutMs);
      const onAbort = () => {
        finish({ outcome: 'network_error', statusCode: null, error: 'aborted: the service is stopping or the endpoint changed' });
        req.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof WebhookTargetError || err.code === 'EWEBHOOKTARGET') {
          finish({ outcome: 'refused', statusCode: null, error: err.message });
        } else {
          finish({ outcome: 'network_error', statusCode: null, error: `${err.code ?? 'error'}: ${err.message}`.slice(0, 300) });
        }
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        // The body is read and dropped, so the connection can carry the next delivery.
        res.resume();
        res.on('error', () => {});
        res.on('end', () => {
          if (status >= 200 && status < 300) return finish({ outcome: 'delivered', statusCode: status });
          if (status === 410) return finish({ outcome: 'gone', statusCode: status, error: 'the receiver answered 410 Gone' });
          const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
          finish({ outcome: 'http_error', statusCode: status, error: `HTTP ${status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
