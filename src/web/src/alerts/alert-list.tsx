import { useEffect, useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { useLiveTick } from '../api/live';
import type { Json } from '../api/client';
import { Pager, Select, SiteSelect, useSites } from '../components/controls';
import { Panel } from '../components/panel';
import { RelativeTime } from '../components/relative-time';
import { dateTime, duration } from '../format';
import { href, setQuery } from '../router';
import type { Rule } from './rules';

export type Alert = Json<'/api/v1/cpo/alerts'>['alerts'][number];

const PAGE_SIZE = 50;

/** The filters of the list, kept in the page's URL so a filtered view survives a reload. */
export interface AlertFilters {
  status: '' | 'open' | 'resolved';
  rule: string;
  charger: string;
  site: string;
  offset: number;
}

export function filtersOf(query: URLSearchParams): AlertFilters {
  const s = query.get('status');
  return {
    status: s === 'open' || s === 'resolved' ? s : '',
    rule: query.get('rule') ?? '',
    charger: query.get('charger') ?? '',
    site: query.get('site') ?? '',
    offset: Math.max(0, Number(query.get('offset') ?? 0) || 0),
  };
}

/**
 * Alerts newest first (GET /api/v1/cpo/alerts) with the API's filters: status, rule, charger,
 * site. Refreshed on alert events from the stream (or by polling), so an alert that opens or
 * resolves shows without a reload.
 */
export function AlertList({ filters, rules }: { filters: AlertFilters; rules: Rule[] }) {
  const { api } = useSignedIn();
  const { name: siteName } = useSites();
  const tick = useLiveTick((e) => e.event.startsWith('alert.'));
  const update = (patch: Partial<AlertFilters>) => setQuery({ ...filters, offset: 0, ...patch });
  // The charger filter is typed: it applies after a pause, not per keystroke.
  const [typed, setTyped] = useState(filters.charger);
  useEffect(() => setTyped(filters.charger), [filters.charger]);
  useEffect(() => {
    if (typed.trim() === filters.charger) return;
    const t = setTimeout(() => update({ charger: typed.trim() }), 400);
    return () => clearTimeout(t);
  }, [typed]);

  const list = useApi(
    (signal) =>
      api.ok(
        api.GET('/api/v1/cpo/alerts', {
          params: {
            query: {
              status: filters.status || undefined,
              rule_id: filters.rule || undefined,
              charge_point_id: filters.charger || undefined,
              site_id: filters.site || undefined,
              limit: PAGE_SIZE,
              offset: filters.offset,
            },
          },
          signal,
        }),
      ),
    [filters.status, filters.rule, filters.charger, filters.site, filters.offset],
    tick,
  );
  const rows = list.data?.alerts ?? [];
  const ruleOptions = [{ value: '', label: 'All rules' }, ...rules.map((r) => ({ value: r.rule_id, label: r.name }))];
  if (filters.rule && !rules.some((r) => r.rule_id === filters.rule)) ruleOptions.push({ value: filters.rule, label: filters.rule });
  return (
    <Panel title="Alerts" id="alerts" error={list.error} loading={list.loading && !list.data}>
      <div class="toolbar" role="group" aria-label="Alert filters">
        <Select
          label="State"
          name="alert-status"
          value={filters.status}
          onChange={(v) => update({ status: v as AlertFilters['status'] })}
          options={[
            { value: '', label: 'Open and resolved' },
            { value: 'open', label: 'Open' },
            { value: 'resolved', label: 'Resolved' },
          ]}
        />
        <Select label="Rule" name="alert-rule" value={filters.rule} onChange={(v) => update({ rule: v })} options={ruleOptions} />
        <label class="control" for="alert-charger">
          <span class="control-label">Charger</span>
          <input id="alert-charger" type="search" placeholder="Charger id" value={typed} onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <SiteSelect value={filters.site} onChange={(v) => update({ site: v })} />
      </div>
      {list.data && rows.length === 0 ? <p class="muted">No alerts match these filters.</p> : null}
      {rows.length ? (
        <div class="table-wrap">
          <table class="list" data-testid="alert-list">
            <caption class="visually-hidden">Alerts, newest first</caption>
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Charger</th>
                <th scope="col">Rule</th>
                <th scope="col">Since</th>
                <th scope="col">Opened</th>
                <th scope="col">Resolved</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr key={a.alert_id} data-alert={a.alert_id} data-state={a.status}>
                  <td>
                    <span class={`chip ${a.status === 'open' ? 'chip-bad' : 'chip-ok'}`}>
                      <span aria-hidden="true">{a.status === 'open' ? '✖' : '✓'}</span> {a.status}
                    </span>
                  </td>
                  <td>
                    <a href={href(`/chargers/${encodeURIComponent(a.charge_point_id)}`)}>{a.charge_point_id}</a>
                    {a.connector_id !== null ? <span class="muted"> connector {a.connector_id}</span> : null}
                    {a.site_id ? <div class="muted">{siteName(a.site_id)}</div> : null}
                  </td>
                  <td>
                    {a.rule_name}
                    <div class="muted">{a.kind}</div>
                  </td>
                  <td>
                    <time dateTime={a.condition_since} title={dateTime(a.condition_since)}>
                      {dateTime(a.condition_since)}
                    </time>
                  </td>
                  <td>
                    <RelativeTime at={a.opened_at} />
                  </td>
                  <td>
                    {a.resolved_at ? (
                      <>
                        <RelativeTime at={a.resolved_at} />
                        <div class="muted">after {duration(Date.parse(a.resolved_at) - Date.parse(a.opened_at))}</div>
                      </>
                    ) : (
                      <strong class="open">still open</strong>
                    )}
                  </td>
                  <td>
                    <Details details={a.details} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.data && list.data.total > PAGE_SIZE ? (
        <Pager label="Alerts" total={list.data.total} limit={PAGE_SIZE} offset={filters.offset} onOffset={(o) => setQuery({ ...filters, offset: o })} />
      ) : null}
    </Panel>
  );
}

/** The alert's details (resolution, connectors, error code…) as short key: value text. */
function Details({ details }: { details: Record<string, unknown> }) {
  const entries = Object.entries(details);
  if (!entries.length) return <span class="muted">—</span>;
  return (
    <ul class="kv">
      {entries.map(([k, v]) => (
        <li key={k}>
          <span class="muted">{k.replace(/_/g, ' ')}:</span> {typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v)}
        </li>
      ))}
    </ul>
  );
}
