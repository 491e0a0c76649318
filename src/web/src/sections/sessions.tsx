import { useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { useLiveTick } from '../api/live';
import { Pager } from '../components/controls';
import { Panel } from '../components/panel';
import { dateTime, kwh } from '../format';
import type { SectionProps } from '../modules';

/** Sessions of the charger (issue 12: GET /api/v1/cpo/sessions); shown only on a service that lists the route. */
interface SessionRow {
  session_id: string;
  connector_id: number;
  transaction_id: string;
  id_tag: string | null;
  started_at: string;
  stopped_at: string | null;
  energy_kwh: number | null;
  stop_reason: string | null;
  status: string;
}

const PAGE = 20;

export default function Sessions({ chargePointId: id }: SectionProps) {
  const { api } = useSignedIn();
  const [offset, setOffset] = useState(0);
  const tick = useLiveTick((e) => e.event.startsWith('session.') && (e.data as { charge_point_id?: string } | null)?.charge_point_id === id);
  const data = useApi(async (signal) => {
    const q = new URLSearchParams({ charge_point_id: id, limit: String(PAGE), offset: String(offset) });
    return (await api.raw('GET', `/api/v1/cpo/sessions?${q}`, undefined, signal)) as { sessions: SessionRow[]; total: number };
  }, [id, offset], tick);
  const rows = data.data?.sessions ?? [];
  return (
    <Panel title="Sessions" id="sessions" error={data.error} loading={data.loading && !data.data}>
      {data.data && rows.length === 0 ? <p class="muted">No sessions recorded.</p> : null}
      {rows.length ? (
        <div class="table-wrap">
          <table class="list" data-testid="sessions">
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col">Connector</th>
                <th scope="col">Started</th>
                <th scope="col">Stopped</th>
                <th scope="col">Energy</th>
                <th scope="col">Id tag</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.session_id}>
                  <th scope="row">
                    <code>{s.session_id}</code> <span class="muted">({s.transaction_id})</span>
                  </th>
                  <td>{s.connector_id}</td>
                  <td>{dateTime(s.started_at)}</td>
                  <td>{s.stopped_at ? `${dateTime(s.stopped_at)}${s.stop_reason ? `, ${s.stop_reason}` : ''}` : <strong>{s.status}</strong>}</td>
                  <td>{s.energy_kwh === null ? '—' : kwh(s.energy_kwh)}</td>
                  <td>{s.id_tag ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {data.data && data.data.total > PAGE ? <Pager label="Sessions" total={data.data.total} limit={PAGE} offset={offset} onOffset={setOffset} /> : null}
    </Panel>
  );
}
