import { useMemo, useState } from 'preact/hooks';
import { useSignedIn } from '../api/session';
import { useApi } from '../api/use-api';
import { useLiveTick } from '../api/live';
import { PeriodSelect } from '../components/controls';
import { Panel } from '../components/panel';
import { TimelineStrip } from '../components/timeline-strip';
import { periodWindow } from '../format';
import { buildStrip } from '../timeline';
import type { SectionProps } from '../modules';

const EVENT_LIMIT = 1000;

export default function Timeline({ chargePointId: id }: SectionProps) {
  const { api } = useSignedIn();
  const [period, setPeriod] = useState('24h');
  const tick = useLiveTick((e) => (e.data as { charge_point_id?: string } | null)?.charge_point_id === id);
  const window = useMemo(() => periodWindow(period), [period, tick]);
  const path = { charge_point_id: id };
  const data = useApi(
    async (signal) => {
      const [conn, errs, charger, now] = await Promise.all([
        api.ok(api.GET('/api/v1/cpo/chargers/{charge_point_id}/connectivity', { params: { path, query: { ...window, limit: EVENT_LIMIT } }, signal })),
        api.ok(api.GET('/api/v1/cpo/chargers/{charge_point_id}/error-history', { params: { path, query: { to: window.to, limit: EVENT_LIMIT } }, signal })),
        api.ok(api.GET('/api/v1/cpo/chargers/{charge_point_id}', { params: { path }, signal })),
        api.ok(api.GET('/api/v1/cpo/fleet/chargers', { params: { query: { search: id, limit: 100 } }, signal })),
      ]);
      const from = Date.parse(window.from);
      const to = Date.parse(window.to);
      const faults = errs.errors
        .filter((e) => e.status === 'Faulted' || e.status === null)
        .map((e) => ({ start: Date.parse(e.timestamp), end: e.resolved_at ? Date.parse(e.resolved_at) : null }))
        .filter((f) => f.start < to && (f.end === null || f.end > from));
      const status = now.chargers.find((c) => c.charge_point_id === id)?.status ?? 'Offline';
      const segments = buildStrip({
        from,
        to,
        registeredAt: Date.parse(charger.registered_at),
        events: conn.events,
        truncated: conn.events.length >= EVENT_LIMIT,
        onlineNow: status !== 'Offline',
        faults,
      });
      return { from, to, segments, truncated: conn.events.length >= EVENT_LIMIT, events: conn.events };
    },
    [id, window],
  );
  return (
    <Panel
      title="Connectivity timeline"
      id="timeline"
      error={data.error}
      loading={data.loading}
      actions={<PeriodSelect value={period} onChange={setPeriod} label="Timeline period" />}
    >
      {data.data ? (
        <>
          <TimelineStrip key={`${data.data.from}`} segments={data.data.segments} from={data.data.from} to={data.data.to} />
          {data.data.truncated ? <p class="notice">The period holds more than {EVENT_LIMIT} connection events: the strip shows the first {EVENT_LIMIT}; pick a shorter period.</p> : null}
          <p class="muted">
            Online and offline from connect and disconnect events; faulted while an error was open. {data.data.events.length} connection events in the period.
          </p>
        </>
      ) : null}
    </Panel>
  );
}
