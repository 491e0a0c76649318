import { useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { useLiveTick } from '../api/live';
import { Pager } from '../components/controls';
import { Panel } from '../components/panel';
import { RelativeTime } from '../components/relative-time';
import { dateTime, duration } from '../format';
import type { SectionProps } from '../modules';

const PAGE = 20;

export default function ErrorHistory({ chargePointId: id }: SectionProps) {
  const { api } = useSignedIn();
  const [offset, setOffset] = useState(0);
  const tick = useLiveTick((e) => (e.data as { charge_point_id?: string } | null)?.charge_point_id === id);
  const data = useApi(
    (signal) =>
      api.ok(api.GET('/api/v1/cpo/chargers/{charge_point_id}/error-history', { params: { path: { charge_point_id: id }, query: { limit: PAGE, offset } }, signal })),
    [id, offset],
    tick,
  );
  const rows = data.data?.errors ?? [];
  return (
    <Panel title="Error history" id="error-history" error={data.error} loading={data.loading && !data.data}>
      {data.data && rows.length === 0 ? <p class="muted">No errors recorded.</p> : null}
      {rows.length ? (
        <div class="table-wrap">
          <table class="list" data-testid="error-history">
            <thead>
              <tr>
                <th scope="col">Error</th>
                <th scope="col">Connector</th>
                <th scope="col">Raised</th>
                <th scope="col">Resolved</th>
                <th scope="col">Took</th>
                <th scope="col">Info</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.event_id}>
                  <th scope="row">{e.error_code}</th>
                  <td>{e.connector_id === 0 ? 'charger' : e.connector_id}</td>
                  <td>
                    <time dateTime={e.timestamp}>{dateTime(e.timestamp)}</time>
                  </td>
                  <td>{e.resolved_at ? <RelativeTime at={e.resolved_at} /> : <strong class="open">open</strong>}</td>
                  <td>{e.resolved_at ? duration(Date.parse(e.resolved_at) - Date.parse(e.timestamp)) : `${duration(Date.now() - Date.parse(e.timestamp))} so far`}</td>
                  <td>
                    {e.info ?? ''}
                    {e.vendor_error_code ? <span class="muted"> ({e.vendor_error_code})</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {data.data && data.data.total > PAGE ? <Pager label="Error history" total={data.data.total} limit={PAGE} offset={offset} onOffset={setOffset} /> : null}
    </Panel>
  );
}
