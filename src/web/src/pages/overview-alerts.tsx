import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { Panel } from '../components/panel';
import { RelativeTime } from '../components/relative-time';
import { href } from '../router';

/**
 * Open alerts on the overview. Shown only when the service lists GET /api/v1/cpo/alerts
 * (issue 11). Its shape is not in this build's generated types yet, so it is read through
 * `raw` with the fields the issue specifies; regenerate the types (npm run web:types) and
 * switch to the typed client once the route ships.
 */
interface AlertRow {
  id?: string;
  alert_id?: string;
  rule_id?: string;
  rule_name?: string;
  charge_point_id?: string | null;
  status?: string;
  opened_at?: string;
  message?: string;
}

export function OpenAlerts({ site, tick }: { site: string; tick: number }) {
  const { api } = useSignedIn();
  const alerts = useApi(async (signal) => {
    const q = new URLSearchParams({ status: 'open', limit: '10', ...(site ? { site_id: site } : {}) });
    return (await api.raw('GET', `/api/v1/cpo/alerts?${q}`, undefined, signal)) as { alerts?: AlertRow[]; total?: number };
  }, [site], tick);
  const rows = alerts.data?.alerts ?? [];
  return (
    <Panel title="Open alerts" id="open-alerts" error={alerts.error} loading={alerts.loading && !alerts.data} actions={<a href={href('/alerts', { status: 'open', site })}>All open alerts</a>}>
      {alerts.data && rows.length === 0 ? <p class="muted">No open alerts.</p> : null}
      <ul class="event-list" data-testid="open-alerts">
        {rows.map((a) => (
          <li key={a.alert_id ?? a.id}>
            {a.charge_point_id ? <a href={href(`/chargers/${encodeURIComponent(a.charge_point_id)}`)}>{a.charge_point_id}</a> : 'Fleet'}{' '}
            <strong>{a.rule_name ?? a.message ?? a.rule_id}</strong> opened <RelativeTime at={a.opened_at} />
          </li>
        ))}
      </ul>
    </Panel>
  );
}
