import { useMemo } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { useLiveTick } from '../api/live';
import { PeriodSelect, Select, SiteSelect, useSites } from '../components/controls';
import { Panel } from '../components/panel';
import { BarChart } from '../components/chart';
import { RelativeTime } from '../components/relative-time';
import { count, kwh, percent, periodWindow, shortDateTime } from '../format';
import { groupUptime, groupUtilisation, uptimeBySite } from '../fleet-math';
import { href, setQuery } from '../router';
import type { PageProps } from '../modules';
import { OpenAlerts } from './overview-alerts';

const GRANULARITIES = ['hour', 'day', 'week', 'month'] as const;
const DEFAULT_GRANULARITY: Record<string, string> = { '24h': 'hour', '7d': 'day', '30d': 'day', '90d': 'week' };

const isFleetChange = (e: { event: string }) => /^(charge_point|connector|session)\./.test(e.event);

export default function Overview({ query }: PageProps) {
  const { api, features } = useSignedIn();
  const site = query.get('site') ?? '';
  const period = query.get('period') ?? '7d';
  const granularity = query.get('granularity') ?? DEFAULT_GRANULARITY[period] ?? 'day';
  const q = (patch: Record<string, string>) => setQuery({ site, period, granularity: query.get('granularity'), ...patch });
  const tick = useLiveTick(isFleetChange);
  const siteId = site || undefined;

  const summary = useApi((signal) => api.ok(api.GET('/api/v1/cpo/fleet/summary', { params: { query: { site_id: siteId } }, signal })), [site], tick);
  const { name: siteName } = useSites();
  const window = useMemo(() => periodWindow(period), [period, site]);
  const uptime = useApi(
    (signal) => api.ok(api.GET('/api/v1/cpo/fleet/uptime', { params: { query: { ...window, site_id: siteId } }, signal })),
    [window],
  );
  const utilisation = useApi(
    (signal) =>
      api.ok(api.GET('/api/v1/cpo/fleet/utilisation', { params: { query: { ...window, site_id: siteId, granularity: granularity as 'day' } }, signal })),
    [window, granularity],
  );
  const errors = useApi(
    (signal) => api.ok(api.GET('/api/v1/cpo/fleet/errors', { params: { query: { site_id: siteId, resolved: false, limit: 10 } }, signal })),
    [site],
    tick,
  );

  const s = summary.data;
  const tiles: [string, string, string | null][] = s
    ? [
        ['Total chargers', count(s.total_chargers), null],
        ['Online', count(s.online), 'online'],
        ['Offline', count(s.offline), 'offline'],
        ['Charging', count(s.charging), 'charging'],
        ['Available', count(s.available), 'available'],
        ['Faulted', count(s.faulted), 'faulted'],
        ['Unavailable', count(s.unavailable), null],
        ['Active sessions', count(s.active_sessions), null],
        ['Energy today', kwh(s.total_energy_today_kwh), null],
      ]
    : [];
  const fleetUptime = uptime.data ? groupUptime(uptime.data.chargers) : null;
  const bySite = uptime.data ? [...uptimeBySite(uptime.data.chargers)].sort((a, b) => (a[1].percent ?? 101) - (b[1].percent ?? 101)) : [];
  const util = useMemo(() => (utilisation.data ? groupUtilisation(utilisation.data.chargers) : null), [utilisation.data]);
  const utilSeries = useMemo(() => (util ? [{ label: 'Utilisation', values: util.percent, colour: '#1f5fa8', unit: ' %' }] : []), [util]);

  return (
    <>
      <h1>Fleet overview</h1>
      <div class="toolbar" role="group" aria-label="Filters">
        <SiteSelect value={site} onChange={(v) => q({ site: v })} />
        <PeriodSelect value={period} onChange={(v) => q({ period: v })} label="Uptime and utilisation period" />
      </div>

      <Panel title="Fleet now" id="tiles" error={summary.error} loading={summary.loading && !s}>
        <ul class="tiles" aria-live="polite" data-testid="tiles">
          {tiles.map(([label, value, status]) => (
            <li class={`tile ${status ? `tile-${status}` : ''}`} key={label} data-tile={label}>
              {status ? (
                <a href={href('/chargers', { status, site })}>
                  <span class="tile-value">{value}</span>
                  <span class="tile-label">{label}</span>
                </a>
              ) : (
                <>
                  <span class="tile-value">{value}</span>
                  <span class="tile-label">{label}</span>
                </>
              )}
            </li>
          ))}
        </ul>
      </Panel>

      <div class="grid-2">
        <Panel title="Uptime" id="uptime" error={uptime.error} loading={uptime.loading}>
          {fleetUptime ? (
            <>
              <p class="big-figure" data-testid="fleet-uptime">
                {percent(fleetUptime.percent)} <span class="muted">{site ? siteName(site) : 'whole fleet'}, {count(fleetUptime.chargers)} chargers</span>
              </p>
              <table class="bars">
                <caption>Uptime by site, lowest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Site</th>
                    <th scope="col">Uptime</th>
                    <th scope="col">Downtime</th>
                  </tr>
                </thead>
                <tbody>
                  {bySite.map(([id, u]) => (
                    <tr key={id}>
                      <th scope="row">
                        <a href={href('/', { site: id, period })}>{siteName(id)}</a>
                      </th>
                      <td>
                        <span class="bar" style={{ width: `${u.percent ?? 0}%` }} aria-hidden="true" />
                        <span class="bar-value">{percent(u.percent)}</span>
                      </td>
                      <td>{count(u.downtimeMinutes)} min</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </Panel>

        <Panel
          title="Utilisation"
          id="utilisation"
          error={utilisation.error}
          loading={utilisation.loading}
          actions={
            <Select
              label="By"
              name="granularity"
              value={granularity}
              onChange={(v) => q({ granularity: v })}
              options={GRANULARITIES.map((g) => ({ value: g, label: g }))}
            />
          }
        >
          {util && util.times.length ? (
            <BarChart
              label={`Fleet utilisation by ${granularity}: share of online time spent charging`}
              times={util.times}
              series={utilSeries}
              formatX={(t) => shortDateTime(t * 1000)}
            />
          ) : util ? (
            <p class="muted">No chargers in this period.</p>
          ) : null}
        </Panel>
      </div>

      <div class="grid-2">
        {features.has('GET /api/v1/cpo/alerts') ? <OpenAlerts site={site} tick={tick} /> : null}
        <Panel title="Unresolved errors, most recent" id="errors" error={errors.error} loading={errors.loading && !errors.data}>
          {errors.data && errors.data.errors.length === 0 ? <p class="muted">No unresolved errors.</p> : null}
          <ul class="event-list" data-testid="recent-errors">
            {(errors.data?.errors ?? []).map((e) => (
              <li key={e.event_id}>
                <a href={href(`/chargers/${encodeURIComponent(e.charge_point_id)}`)}>{e.charge_point_id}</a>{' '}
                <strong>{e.error_code}</strong>
                {e.connector_id ? ` on connector ${e.connector_id}` : ''} <RelativeTime at={e.timestamp} />
                {e.info ? <span class="muted"> — {e.info}</span> : null}
              </li>
            ))}
          </ul>
          {errors.data && errors.data.total > errors.data.errors.length ? (
            <p class="muted">{count(errors.data.total)} unresolved in all.</p>
          ) : null}
        </Panel>
      </div>
    </>
  );
}
