import type { ComponentType } from 'preact';
import { useEffect, useErrorBoundary, useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { useLiveTick } from '../api/live';
import { FailureNotice, Panel, RenderFailureNotice } from '../components/panel';
import { useSites } from '../components/controls';
import { StatusChip } from '../components/status-chip';
import { RelativeTime } from '../components/relative-time';
import { count, kwh, percent } from '../format';
import { CHARGER_SECTIONS, available, type PageProps, type SectionModule, type SectionProps } from '../modules';

export default function Charger({ params }: PageProps) {
  const id = params.id!;
  const { api, features } = useSignedIn();
  const { name: siteName } = useSites();
  const tick = useLiveTick((e) => (e.data as { charge_point_id?: string } | null)?.charge_point_id === id);
  useEffect(() => void (document.title = `${id} · Dynamo CSMS`), [id]);
  const path = { charge_point_id: id };
  const diag = useApi((signal) => api.ok(api.GET('/api/v1/cpo/chargers/{charge_point_id}/diagnostics', { params: { path }, signal })), [id], tick);
  // The one charger status and the connectors' error codes come from the fleet list.
  const live = useApi(async (signal) => {
    const r = await api.ok(api.GET('/api/v1/cpo/fleet/chargers', { params: { query: { search: id, limit: 100 } }, signal }));
    return r.chargers.find((c) => c.charge_point_id === id) ?? null;
  }, [id], tick);

  if (diag.error?.status === 404) {
    return (
      <>
        <h1>{id}</h1>
        <p class="notice notice-error" role="alert">
          There is no charger “{id}” in your fleet. <a href="#/chargers">Back to the chargers</a>.
        </p>
      </>
    );
  }
  const d = diag.data;
  const codes = new Map((live.data?.connectors ?? []).map((c) => [c.connector_id, c.error_code]));
  const sections = available(CHARGER_SECTIONS, features.has).sort((a, b) => a.order - b.order);
  return (
    <>
      <p class="crumbs">
        <a href="#/chargers">Chargers</a> /
      </p>
      <h1>
        {id} {live.data ? <StatusChip status={live.data.status} /> : null}
      </h1>
      {diag.error ? <FailureNotice error={diag.error} /> : null}
      {d ? (
        <>
          <dl class="facts" data-testid="charger-facts">
            <div>
              <dt>Site</dt>
              <dd>{siteName(d.site_id)}</dd>
            </div>
            <div>
              <dt>Vendor / model</dt>
              <dd>
                {d.vendor ?? '—'} / {d.model ?? '—'}
              </dd>
            </div>
            <div>
              <dt>Firmware</dt>
              <dd>{d.firmware_version ?? '—'}</dd>
            </div>
            <div>
              <dt>OCPP</dt>
              <dd>{d.ocpp_version ?? '—'}</dd>
            </div>
            <div>
              <dt>Last heartbeat</dt>
              <dd>
                <RelativeTime at={d.last_heartbeat} />
              </dd>
            </div>
            <div>
              <dt>Last message</dt>
              <dd>
                <RelativeTime at={d.last_seen} />
              </dd>
            </div>
            <div>
              <dt>Uptime, 30 days</dt>
              <dd data-testid="uptime-30d">{percent(d.uptime_30d_percent)}</dd>
            </div>
            <div>
              <dt>Utilisation, 30 days</dt>
              <dd>{percent(d.utilisation_30d_percent)}</dd>
            </div>
            <div>
              <dt>Errors, 30 days</dt>
              <dd>
                {count(d.error_count_30d)} ({count(d.open_error_count)} open)
              </dd>
            </div>
          </dl>
          <Panel title="Connectors" id="connectors">
            {live.data?.status === 'Offline' ? <p class="muted">The charger is offline: these are the statuses it last reported.</p> : null}
            <ul class="connectors" aria-live="polite" data-testid="connectors">
              {d.connectors.map((c) => (
                <li key={c.connector_id} class="connector" data-connector={c.connector_id}>
                  <span class="connector-name">Connector {c.connector_id}</span>
                  <StatusChip status={c.status} />
                  {codes.get(c.connector_id) && codes.get(c.connector_id) !== 'NoError' ? <span class="muted">{codes.get(c.connector_id)}</span> : null}
                  <span class="muted">
                    {count(c.total_sessions)} sessions, {kwh(c.total_energy_kwh)}
                  </span>
                </li>
              ))}
              {d.connectors.length === 0 ? <li class="muted">No connector has reported yet.</li> : null}
            </ul>
          </Panel>
        </>
      ) : null}
      {sections.map((s) => (
        <SectionHost key={s.id} section={s} props={{ chargePointId: id }} />
      ))}
    </>
  );
}

/**
 * One section, loaded on demand. A section whose code cannot be fetched, or that throws while
 * rendering, shows why in its own panel; the facts and the other sections stay on the page
 * (without the boundary one section's error would unmount the whole dashboard).
 */
function SectionHost({ section, props }: { section: SectionModule; props: SectionProps }) {
  const { can } = useSignedIn();
  const [Component, setComponent] = useState<ComponentType<SectionProps> | null>(null);
  const [loadFailure, setLoadFailure] = useState<string | null>(null);
  const [renderFailure, retry] = useErrorBoundary();
  const allowed = !section.scope || can(section.scope);
  useEffect(() => {
    if (!allowed) return;
    let current = true;
    section.load().then(
      (m) => current && setComponent(() => m.default),
      (err) => current && setLoadFailure(String(err)),
    );
    return () => void (current = false);
  }, [section, allowed]);
  if (!allowed) {
    return (
      <Panel title={section.title} id={section.id}>
        <p class="notice notice-scope" role="status">
          Your API key cannot show this: it lacks the scope <code>{section.scope}</code>.
        </p>
      </Panel>
    );
  }
  if (loadFailure) {
    return (
      <Panel title={section.title} id={section.id}>
        <p class="notice notice-error" role="alert">
          This section could not be loaded ({loadFailure}). Reload the page to try again.
        </p>
      </Panel>
    );
  }
  if (renderFailure) {
    return (
      <Panel title={section.title} id={section.id}>
        <RenderFailureNotice what="section" error={renderFailure} retry={retry} />
      </Panel>
    );
  }
  return Component ? <Component {...props} /> : null;
}
