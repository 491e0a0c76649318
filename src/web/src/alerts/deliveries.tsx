import { useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { ApiFailure, type Json } from '../api/client';
import { Pager } from '../components/controls';
import { FailureNotice } from '../components/panel';
import { RelativeTime } from '../components/relative-time';
import type { Endpoint } from './webhooks';

type Delivery = Json<'/api/v1/webhooks/endpoints/{endpoint_id}/deliveries'>['deliveries'][number];

const PAGE = 20;

/** "HTTP 200 in 12 ms", or the error when there was no answer. */
function outcome(d: Delivery): string {
  const code = d.last_status_code !== null ? `HTTP ${d.last_status_code}` : (d.last_error ?? 'no answer');
  return d.last_latency_ms !== null ? `${code} in ${d.last_latency_ms} ms` : code;
}

/**
 * An endpoint's deliveries, newest first, with their status codes
 * (GET …/endpoints/{id}/deliveries), and a button that sends a signed test message now
 * (POST …/test) and shows what the receiver answered.
 */
export function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const { api } = useSignedIn();
  const [offset, setOffset] = useState(0);
  const path = { endpoint_id: endpoint.id };
  const list = useApi(
    (signal) => api.ok(api.GET('/api/v1/webhooks/endpoints/{endpoint_id}/deliveries', { params: { path, query: { limit: PAGE, offset } }, signal })),
    [endpoint.id, offset],
  );
  const [testing, setTesting] = useState(false);
  const [test, setTest] = useState<Delivery | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const sendTest = async () => {
    setTesting(true);
    setTest(null);
    setFailure(null);
    try {
      setTest(await api.ok(api.POST('/api/v1/webhooks/endpoints/{endpoint_id}/test', { params: { path } })));
      list.reload();
    } catch (err) {
      setFailure(err instanceof ApiFailure ? err : new ApiFailure(0, 'client_error', String(err)));
    } finally {
      setTesting(false);
    }
  };
  const rows = list.data?.deliveries ?? [];
  return (
    <div class="deliveries" id={`deliveries-${endpoint.id}`}>
      <div class="toolbar">
        <button type="button" onClick={sendTest} disabled={testing}>
          Send test<span class="visually-hidden"> to {endpoint.url}</span>
        </button>
        <button type="button" onClick={list.reload}>
          Refresh deliveries
        </button>
      </div>
      <div aria-live="polite" data-testid="webhook-test-result">
        {testing ? <p aria-busy="true">Sending a test message…</p> : null}
        {failure ? <FailureNotice error={failure} /> : null}
        {test ? (
          <p class={`notice ${test.status === 'delivered' ? 'notice-ok' : 'notice-error'}`} data-status={test.status} data-code={test.last_status_code ?? ''}>
            Test {test.status === 'delivered' ? 'delivered' : 'failed'}: {outcome(test)}.
          </p>
        ) : null}
      </div>
      {list.error ? <FailureNotice error={list.error} /> : null}
      {list.data && rows.length === 0 ? <p class="muted">No deliveries yet.</p> : null}
      {rows.length ? (
        <div class="table-wrap">
          <table class="list" data-testid="delivery-list">
            <caption>Deliveries to {endpoint.url}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Status code</th>
                <th scope="col">Attempts</th>
                <th scope="col">Created</th>
                <th scope="col">Delivered / next attempt</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id} data-delivery={d.id} data-status={d.status}>
                  <td>
                    {d.event}
                    <div class="muted">{d.event_id ?? 'test'}</div>
                  </td>
                  <td>
                    <span class={`chip ${d.status === 'delivered' ? 'chip-ok' : d.status === 'pending' ? 'chip-warn' : 'chip-bad'}`}>
                      <span aria-hidden="true">{d.status === 'delivered' ? '✓' : d.status === 'pending' ? '…' : '✖'}</span> {d.status}
                    </span>
                  </td>
                  <td data-code={d.last_status_code ?? ''}>
                    {d.last_status_code ?? '—'}
                    {d.last_error && d.last_error !== `HTTP ${d.last_status_code}` ? <div class="muted">{d.last_error}</div> : null}
                    {d.last_latency_ms !== null ? <div class="muted">{d.last_latency_ms} ms</div> : null}
                  </td>
                  <td>{d.attempts}</td>
                  <td>
                    <RelativeTime at={d.created_at} />
                  </td>
                  <td>
                    {d.delivered_at ? <RelativeTime at={d.delivered_at} /> : d.next_attempt_at ? <>retry <RelativeTime at={d.next_attempt_at} /></> : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.data && list.data.total > PAGE ? <Pager label="Deliveries" total={list.data.total} limit={PAGE} offset={offset} onOffset={setOffset} /> : null}
    </div>
  );
}
