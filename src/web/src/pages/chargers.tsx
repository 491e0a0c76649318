import { useEffect, useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { useLiveTick } from '../api/live';
import type { Query } from '../api/client';
import { Pager, SiteSelect, useSites } from '../components/controls';
import { Panel } from '../components/panel';
import { StatusChip } from '../components/status-chip';
import { RelativeTime } from '../components/relative-time';
import { href, setQuery } from '../router';
import type { PageProps } from '../modules';

type ListQuery = Query<'/api/v1/cpo/fleet/chargers'>;
type Sort = NonNullable<ListQuery['sort']>;
type Status = NonNullable<ListQuery['status']>;

/** The API's status filter values (GET /api/v1/cpo/fleet/chargers `status`), as chips. */
const STATUSES: Status[] = ['online', 'offline', 'charging', 'available', 'faulted'];
const PAGE_SIZE = 50;

const COLUMNS: { sort: Sort; label: string }[] = [
  { sort: 'charge_point_id', label: 'Charger' },
  { sort: 'status', label: 'Status' },
  { sort: 'site_id', label: 'Site' },
  { sort: 'vendor', label: 'Vendor' },
  { sort: 'model', label: 'Model' },
  { sort: 'firmware_version', label: 'Firmware' },
  { sort: 'ocpp_version', label: 'OCPP' },
  { sort: 'last_heartbeat', label: 'Last heartbeat' },
];

/**
 * Every charger of the tenant, filtered, searched, sorted and paged by the API (so it stays
 * fast with 10,000 chargers: one page of 50 is fetched, never the fleet). The state lives in
 * the URL hash, so a filtered view survives a reload and can be shared.
 */
export default function Chargers({ query }: PageProps) {
  const { api } = useSignedIn();
  const { name: siteName } = useSites();
  const status = (query.get('status') ?? '') as Status | '';
  const site = query.get('site') ?? '';
  const search = query.get('q') ?? '';
  const sort = (query.get('sort') ?? 'charge_point_id') as Sort;
  const order = query.get('order') === 'desc' ? 'desc' : 'asc';
  const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
  const state = { status, site, q: search, sort, order, offset };
  const update = (patch: Partial<typeof state>) => setQuery({ ...state, offset: 0, ...patch });
  const tick = useLiveTick((e) => /^(charge_point|connector)\./.test(e.event));

  // Typing updates the URL after a pause, not per keystroke.
  const [typed, setTyped] = useState(search);
  useEffect(() => setTyped(search), [search]);
  useEffect(() => {
    if (typed === search) return;
    const t = setTimeout(() => update({ q: typed }), 300);
    return () => clearTimeout(t);
  }, [typed]);

  const list = useApi(
    (signal) =>
      api.ok(
        api.GET('/api/v1/cpo/fleet/chargers', {
          params: {
            query: {
              status: status || undefined,
              site_id: site || undefined,
              search: search.trim() || undefined,
              sort,
              order,
              limit: PAGE_SIZE,
              offset,
            },
          },
          signal,
        }),
      ),
    [status, site, search, sort, order, offset],
    tick,
  );
  const rows = list.data?.chargers ?? [];

  return (
    <>
      <h1>Chargers</h1>
      <div class="toolbar" role="group" aria-label="Filters">
        <div class="chips" role="group" aria-label="Status">
          <button type="button" class="chip-toggle" aria-pressed={status === ''} onClick={() => update({ status: '' })}>
            All
          </button>
          {STATUSES.map((s) => (
            <button type="button" key={s} class={`chip-toggle chip-toggle-${s}`} aria-pressed={status === s} onClick={() => update({ status: s })}>
              {s}
            </button>
          ))}
        </div>
        <SiteSelect value={site} onChange={(v) => update({ site: v })} />
        <label class="control" for="charger-search">
          <span class="control-label">Search</span>
          <input
            id="charger-search"
            type="search"
            placeholder="Identity, vendor, model, firmware"
            value={typed}
            onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
      </div>
      <Panel title="Charger list" id="charger-list" error={list.error} loading={list.loading}>
        <div class="table-wrap">
          <table class="list" data-testid="chargers-table">
            <caption class="visually-hidden">Chargers, sorted by {COLUMNS.find((c) => c.sort === sort)?.label} {order === 'asc' ? 'ascending' : 'descending'}</caption>
            <thead>
              <tr>
                {COLUMNS.map((c) => (
                  <th scope="col" key={c.sort} aria-sort={sort === c.sort ? (order === 'asc' ? 'ascending' : 'descending') : undefined}>
                    <button type="button" class="sort" onClick={() => update({ sort: c.sort, order: sort === c.sort && order === 'asc' ? 'desc' : 'asc' })}>
                      {c.label}
                      <span aria-hidden="true">{sort === c.sort ? (order === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                    </button>
                  </th>
                ))}
                <th scope="col">Connectors</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.charge_point_id} data-charger={c.charge_point_id}>
                  <th scope="row">
                    <a href={href(`/chargers/${encodeURIComponent(c.charge_point_id)}`)}>{c.charge_point_id}</a>
                  </th>
                  <td>
                    <StatusChip status={c.status} />
                  </td>
                  <td>{siteName(c.site_id)}</td>
                  <td>{c.vendor ?? '—'}</td>
                  <td>{c.model ?? '—'}</td>
                  <td>{c.firmware_version ?? '—'}</td>
                  <td>{c.ocpp_version ?? '—'}</td>
                  <td>
                    <RelativeTime at={c.last_heartbeat} />
                  </td>
                  <td>
                    {c.connectors.map((k) => (
                      <span key={k.connector_id} class="connector-mini" title={`Connector ${k.connector_id}: ${k.status}${k.error_code && k.error_code !== 'NoError' ? `, ${k.error_code}` : ''}`}>
                        {k.connector_id}: {k.status}
                      </span>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {list.data && rows.length === 0 ? <p class="muted">No charger matches.</p> : null}
        {list.data ? <Pager label="Charger" total={list.data.total} limit={PAGE_SIZE} offset={list.data.offset} onOffset={(o) => setQuery({ ...state, offset: o })} /> : null}
      </Panel>
    </>
  );
}
